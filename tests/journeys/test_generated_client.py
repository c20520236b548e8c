"""A client generated from the served /openapi.json (openapi-python-client) drives a journey and
parses every refusal into a typed problem object, as a client written by someone else would."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
import types
import typing
from datetime import date, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.journeys.conftest import DEMO_PASSWORD, LiveServer

PACKAGE = "quartier_client"
PROBLEMS = "https://quartier.example/problems/"
CALL = "ZiQ-DEMO"  # the seeded demo call: open now, budget years next year and the year after
Y1 = date.today().year + 1
START = max(date(Y1, 1, 1), date.today() + timedelta(days=60))
# The server runs on the real clock: the project starts in the future, or submit is refused.
DRAFT = {
    "call": CALL, "module_code": "B1", "title": "Lesepaten im Quartier",
    "summary": "Ehrenamtliche lesen mit Kindern", "quartier": "Schalke",
    "municipality": "Gelsenkirchen",
    "project_start": START.isoformat(),
    "project_end": (START + timedelta(days=400)).isoformat(),
    # The Kosten- und Finanzierungsplan: 20,000 euros of grant a year (Fehlbedarf).
    "finance_plan": {str(y): {"expenses": {"personnel": "16500.00", "rent": "4000.00"},
                              "own": "500.00", "third_party": "0.00"} for y in (Y1, Y1 + 1)},
}


class Endpoints:
    """The generated modules by method and path, so the test does not depend on operation ids."""

    def __init__(self, package: types.ModuleType) -> None:
        self.modules: dict[tuple[str, str], types.ModuleType] = {}
        api = importlib.import_module(f"{package.__name__}.api")
        for info in pkgutil.walk_packages(api.__path__, f"{api.__name__}."):
            module = importlib.import_module(info.name)
            source = Path(module.__file__).read_text(encoding="utf-8")
            found = re.search(r'"method": "(\w+)",\s*"url": "([^"]+)"', source)
            if found:
                self.modules[(found[1].upper(), found[2])] = module

    def __call__(self, method: str, path: str) -> types.ModuleType:
        assert (method, path) in self.modules, f"no generated function for {method} {path}"
        return self.modules[(method, path)]


def generated_type(function: Any, parameter: str) -> Any:
    """The generated model or enum a function takes for `parameter` (str if it takes a string)."""
    hint = typing.get_type_hints(function)[parameter]
    for candidate in typing.get_args(hint) or (hint,):
        if isinstance(candidate, type) and candidate.__module__.startswith(f"{PACKAGE}."):
            if candidate.__name__ != "Unset":
                return candidate
    return str


def build(function: Any, parameter: str, value: Any) -> Any:
    kind = generated_type(function, parameter)
    if kind is str:
        return value
    if issubclass(kind, Enum):
        return kind(value)
    return kind.from_dict(value)


@pytest.fixture(scope="module")
def client_package(live_server: LiveServer, tmp_path_factory) -> types.ModuleType:
    """Generate the client from the running server's /openapi.json and import it."""
    out = tmp_path_factory.mktemp("generated-client")
    spec = out / "openapi.json"
    spec.write_bytes(httpx.get(f"{live_server.base_url}/openapi.json", timeout=30).content)
    config = out / "config.yml"
    # The SEPA file (pain.001) is XML: the client hands it over as text, as it does CSV.
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n"
                      "content_type_overrides:\n  application/xml: text/xml\n", encoding="utf-8")
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(generator), "generate", "--path", str(spec), "--output-path", str(out / PACKAGE),
         "--meta", "none", "--config", str(config), "--fail-on-warning"],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))


def problem_failure(response: Any, status: int, *slugs: str) -> str | None:
    """Why `response` is not a typed problem of `status` and one of `slugs`, or None if it is."""
    if response.status_code != status:
        return f"{status}: the server answered {response.status_code} {response.content[:300]!r}"
    problem = response.parsed
    if problem is None or not type(problem).__module__.startswith(f"{PACKAGE}.models"):
        return f"{status}: not parsed into a generated model but {problem!r}"
    # The generator names the field `type` as `type_` (a Python builtin).
    got = {name: getattr(problem, name, None) for name in ("title", "status", "detail")}
    got["type"] = getattr(problem, "type_", getattr(problem, "type", None))
    if got["type"] not in [PROBLEMS + slug for slug in slugs] or got["status"] != status:
        return f"{status}: parsed into {type(problem).__name__} with {got}"
    if not (isinstance(got["title"], str) and isinstance(got["detail"], str)):
        return f"{status}: {type(problem).__name__} lacks title or detail: {got}"
    return None


def test_generated_client_journey_and_typed_problems(client_package, live_server) -> None:
    endpoint = Endpoints(client_package)
    base = live_server.base_url

    def call(method: str, path: str, client: Any, **kwargs: Any) -> Any:
        return endpoint(method, path).sync_detailed(client=client, **kwargs)

    def refusal(method: str, path: str, client: Any, **kwargs: Any) -> Any:
        """Call a generated function that must be refused; what the client raises instead of
        parsing the problem (an undocumented status, a problem read as another schema) is kept
        as the failure, so one run names every refusal the spec gets wrong."""
        try:
            return call(method, path, client, **kwargs)
        except client_package.errors.UnexpectedStatus as error:
            return types.SimpleNamespace(status_code=error.status_code, content=error.content,
                                         parsed=f"UnexpectedStatus({error.status_code})")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            answered = seen[-1]
            return types.SimpleNamespace(status_code=answered.status_code,
                                         content=answered.read(),
                                         parsed=f"{type(error).__name__} while parsing: {error}")

    seen: list[httpx.Response] = []  # every response, for what a failed parse was given
    httpx_args = {"event_hooks": {"response": [seen.append]}}

    def login(email: str) -> Any:
        login_module = endpoint("POST", "/api/v1/auth/token")
        anonymous = client_package.Client(base_url=base, raise_on_unexpected_status=True)
        body = build(login_module.sync_detailed, "body",
                     {"username": email, "password": DEMO_PASSWORD})
        response = login_module.sync_detailed(client=anonymous, body=body)
        assert response.status_code == 200, response.content
        return client_package.AuthenticatedClient(
            base_url=base, token=response.parsed.access_token, raise_on_unexpected_status=True,
            httpx_args=httpx_args)

    carrier = login("traeger1@quartier.example")
    reviewer = login("pruefung@quartier.example")

    me = call("GET", "/api/v1/me", carrier)
    assert me.status_code == 200 and me.parsed.email == "traeger1@quartier.example"

    create = endpoint("POST", "/api/v1/applications")
    created = create.sync_detailed(client=carrier, body=build(create.sync_detailed, "body", DRAFT))
    assert created.status_code == 201, created.content
    draft = created.parsed
    assert draft.state == "draft" and draft.call == CALL
    reference, etag = draft.reference, created.headers["ETag"]

    fire = endpoint("POST", "/api/v1/applications/{reference}/transitions/{trigger}")

    def trigger(name: str) -> Any:
        return build(fire.sync_detailed, "trigger", name)

    def fire_body() -> Any:
        return build(fire.sync_detailed, "body", {})

    submitted = fire.sync_detailed(reference, trigger("submit"), client=carrier, body=fire_body(),
                                   if_match=etag)
    assert submitted.status_code == 200, submitted.content
    assert submitted.parsed.application.state == "submitted"

    listing = endpoint("GET", "/api/v1/applications").sync_detailed(client=reviewer,
                                                                    state="submitted")
    assert listing.status_code == 200, listing.content
    assert reference in [item.reference for item in listing.parsed.items]

    failures = [
        problem_failure(refusal("GET", "/api/v1/admin/users", carrier), 403, "not-permitted"),
        problem_failure(refusal("GET", "/api/v1/applications/{reference}", carrier,
                             reference="ZiQ-2020-9999"), 404, "not-found"),
        problem_failure(refusal("POST", "/api/v1/applications/{reference}/transitions/{trigger}",
                             carrier, reference=reference, trigger=trigger("submit"),
                             body=fire_body()), 409, "wrong-state"),
        problem_failure(refusal("POST", "/api/v1/applications/{reference}/transitions/{trigger}",
                             reviewer, reference=reference, trigger=trigger("start_review"),
                             body=fire_body(), if_match=etag), 412, "precondition-failed"),
        problem_failure(refusal("POST", "/api/v1/applications", carrier,
                             body=build(create.sync_detailed, "body",
                                        {**DRAFT, "amounts": {str(Y1): "-5.00"}})),
                        422, "invalid-input", "validation-error"),
    ]
    failures = [f for f in failures if f]
    assert not failures, "refusals the generated client does not parse:\n" + "\n".join(failures)
