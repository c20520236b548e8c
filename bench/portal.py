"""Portal pages: `quartier serve` against a bare FastAPI + Jinja page doing the same queries.

Quartier: the carrier's pages as a logged-in browser gets them (login cookie, the user read and
checked on every request, the page in KERN layout, German). Baseline: a tiny FastAPI app in this
file, served the same way (uvicorn in a subprocess, no access log), whose endpoints read the same
user row, run the same queries (`workflow.carrier_overview.my_applications`, and for the case
page the case's own reads with its money and settlement sections) and render the same rows
through one Jinja template without layout.
Rounds alternate between both servers. SQLite, seeded with `quartier seed` (demo data: traeger1's
organisation has applications in the ZiQ-2021 history and in the demo call).

    python bench/portal.py [--n 300]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx  # noqa: E402
from fastapi import Request  # noqa: E402  (resolved at module level by FastAPI)
from sqlmodel import Session, select  # noqa: E402

from bench.common import (  # noqa: E402
    BIN,
    Server,
    cpu_seconds,
    free_port,
    interleaved,
    quartier_serve,
    ratio,
    serve,
    server_env,
    table,
    verdict,
)

TARGET = 0.8
ROUNDS = 6
CARRIER = "traeger1@quartier.example"
PASSWORD = "quartier-demo"

BARE_OVERVIEW = """<!doctype html><html lang="de"><head><meta charset="utf-8">
<title>Meine Anträge</title></head><body><main><h1>Meine Anträge</h1><table>
<thead><tr><th>Antrag</th><th>Status</th><th>Beantragt</th><th>Bewilligt</th><th>Frist</th></tr>
</thead><tbody>{% for r in rows %}<tr><td><a href="/antraege/{{ r.reference }}">{{ r.reference
}}</a> {{ r.title }} {{ r.call_title }}</td><td>{{ r.state }}</td><td>{{ r.requested_cents|money
}}</td><td>{{ r.approved_cents|money }}</td><td>{{ r.next_due|day }}</td></tr>{% endfor %}
</tbody></table></main></body></html>"""

BARE_CASE = """<!doctype html><html lang="de"><head><meta charset="utf-8">
<title>{{ app.reference }}</title></head><body><main><h1>{{ app.title }}</h1>
<p>{{ app.reference }} {{ call.title if call else "" }} {{ module }} {{ app.state|state_label }}
{{ next_step }}</p><ul>{% for y in years %}<li>{{ y.year }} {{ y.requested_cents|money }}
{{ y.approved_cents|money }}</li>{% endfor %}</ul><ul>{% for r in requested %}<li>{{ r }}</li>
{% endfor %}</ul><ol>{% for e in timeline %}<li>{{ e.at|moment }} {{ e }}</li>{% endfor %}</ol>
<ul>{% for o in offers %}<li>{{ o }}</li>{% endfor %}</ul><table>{% for d in documents %}<tr>
<td>{{ d }}</td></tr>{% endfor %}</table><p>{{ calendar or "" }}</p>
{% if money %}<ul>{% for y in money.years %}<li>{{ y.year }} {{ y.committed|money }}
{{ y.paid|money }}</li>{% endfor %}</ul><ul>{% for c in money.calls %}<li>{{ c.year }}
{{ c.amount_cents|money }} {{ c.status_label }}</li>{% endfor %}</ul>{% endif %}
{% if settlement %}<ul>{% for y in settlement.years %}<li>{{ y.year }} {{ y.paid }}
{{ y.final_grant }}</li>{% endfor %}</ul>{% endif %}</main></body></html>"""


def bare_app(database_url: str):  # type: ignore[no-untyped-def]
    """The baseline: the same reads, one Jinja template, no layout, no login check."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse
    from jinja2 import Environment

    from api.portal import case_view as view
    from api.portal import payments_pages, settlement_pages
    from api.portal.i18n import filters
    from states import Role
    from workflow import queries
    from workflow.carrier_overview import my_applications
    from workflow.db import make_engine
    from workflow.models import Organisation, User
    from workflow.rows import Actor

    db = make_engine(database_url)
    env = Environment(autoescape=True)
    env.filters.update(filters("de"))
    overview = env.from_string(BARE_OVERVIEW)
    case = env.from_string(BARE_CASE)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare/antraege", response_class=HTMLResponse)
    def bare_overview(user: int) -> str:
        with Session(db) as session:
            row = session.get(User, user)
            return overview.render(rows=my_applications(session, row.organisation_id))

    @app.get("/bare/antraege/{reference}", response_class=HTMLResponse)
    def bare_case(reference: str, user: int, request: Request) -> str:
        """The case page's reads (the same functions of api/portal/case_view.py)."""
        with Session(db) as session:
            row = session.get(User, user)
            actor = Actor(row.id, Role(row.role), row.organisation_id, row.name)
            application = view.application_of(session, reference, actor)
            requested = view.requested_now(request, session, application, queries.today())
            call, module = view.call_and_module(session, application)
            organisation = session.get(Organisation, row.organisation_id)  # calendar feed token
            return case.render(
                app=application, call=call, module=module,
                years=view.years_of(session, application),
                next_step=view.next_step(application, "de"), requested=requested,
                timeline=view.timeline(request, session, application),
                offers=view.offers(request, session, application, actor, requested),
                documents=view.documents_of(session, application, "de"),
                calendar=organisation.calendar_token if organisation else None,
                money=payments_pages.money_section(session, application, "de", queries.today()),
                settlement=settlement_pages.section(session, application, actor, "de"))

    return app


@contextlib.contextmanager
def bare_serve(database_url: str) -> Iterator[Server]:
    port = free_port()
    with serve([str(BIN / "python"), str(Path(__file__).resolve()), "--serve-bare", database_url,
                "--port", str(port)], server_env(database_url), port) as server:
        yield server


def portal_login(client: httpx.Client) -> None:
    """Log in through the login form, as a browser does (the cookie stays in the client)."""
    form = client.get("/anmelden").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/anmelden", data={"email": CARRIER, "password": PASSWORD,
                                              "csrf_token": token})
    if response.status_code != 303:
        raise RuntimeError(f"login: {response.status_code}")


def run(client: httpx.Client, path: str, n: int, marker: str) -> tuple[int, float]:
    import time
    started = time.perf_counter()
    for _ in range(n):
        response = client.get(path)
        if response.status_code != 200 or marker not in response.text:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return n, time.perf_counter() - started


def seeded_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'portal.sqlite3'}"
    env = server_env(url) | {"QUARTIER_DATA_DIR": str(folder),
                             "QUARTIER_DOCUMENTS_DIR": str(folder / "documents")}
    for args in (("db", "upgrade"), ("seed",)):
        subprocess.run([str(BIN / "quartier"), *args], env=env, check=True,
                       capture_output=True)
    return url


def pages(url: str) -> list[tuple[str, str, str, str]]:
    """(name, Quartier path, baseline path, a text both must contain)."""
    from workflow.db import make_engine
    from workflow.models import User
    engine = make_engine(url)
    from workflow.models import Application
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == CARRIER)).one()
        # The carrier's approved demo case: a timeline, a notice in the case file, a deadline.
        reference = session.exec(select(Application.reference).where(
            Application.organisation_id == user.organisation_id,
            Application.state == "approved").order_by(Application.id)).first()
    engine.dispose()
    return [("Meine Anträge", "/antraege", f"/bare/antraege?user={user.id}", "ZiQ-2020-"),
            ("Antrag (Fallseite)", f"/antraege/{reference}",
             f"/bare/antraege/{reference}?user={user.id}", reference)]


def measure(n: int) -> list[list[str]]:
    rows = []
    per_round = max(1, n // ROUNDS)
    with tempfile.TemporaryDirectory(prefix="quartier-bench-portal-") as folder:
        url = seeded_database(Path(folder))
        with quartier_serve(url) as quartier, bare_serve(url) as bare, \
                httpx.Client(base_url=quartier.base_url, timeout=60) as q_client, \
                httpx.Client(base_url=bare.base_url, timeout=60) as b_client:
            portal_login(q_client)
            q_pid, b_pid = quartier.worker_pids()[0], bare.worker_pids()[0]
            for name, q_path, b_path, marker in pages(url):
                run(q_client, q_path, 20, marker)
                run(b_client, b_path, 20, marker)
                q_cpu, b_cpu = cpu_seconds(q_pid), cpu_seconds(b_pid)
                q_rate, b_rate = interleaved(
                    ROUNDS, lambda _i, p=q_path, m=marker: run(q_client, p, per_round, m),
                    lambda _i, p=b_path, m=marker: run(b_client, p, per_round, m))
                q_cpu, b_cpu = cpu_seconds(q_pid) - q_cpu, cpu_seconds(b_pid) - b_cpu
                total = per_round * ROUNDS
                rows.append([name, str(total), f"{q_rate:.0f}", f"{b_rate:.0f}",
                             ratio(q_rate, b_rate), verdict(q_rate / b_rate, TARGET),
                             f"{1000 * q_cpu / total:.2f}", f"{1000 * b_cpu / total:.2f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="requests per page and server")
    parser.add_argument("--serve-bare", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        import uvicorn
        uvicorn.run(bare_app(args.serve_bare), host="127.0.0.1", port=args.port,
                    access_log=False, log_level="warning")
        return
    print(table(["page", "requests", "Quartier /s", "bare /s", "ratio", f"≥ {TARGET}",
                 "Quartier CPU ms/req", "bare CPU ms/req"], measure(args.n)))



if __name__ == "__main__":
    main()
