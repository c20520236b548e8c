"""The settlement in the portal: staff settle an over-paid case from its page (the grounds are
needed and their absence is shown at the field, writing nothing), record repayments after the
partial revocation (a bad value date or too much is refused at its field); the carrier reads
its claim with the balance and the account on its case page."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from tests.api.conftest import ApiWorld, count
from tests.api.portal.test_case import _post, csrf, portal_login
from tests.api.routers.test_settlement import _reported
from workflow import engine as wf
from workflow.claim_tables import LateUse, Repayment, RepaymentClaim
from workflow.db import unit_of_work
from workflow.models import TransitionRecord
from workflow.payment_tables import Payment


def test_settle_and_record_a_repayment_from_the_pages(client: TestClient,
                                                     api_world: ApiWorld) -> None:
    ref = _reported(api_world)  # paid 30.000 € of the first year, final grant 20.000 €
    portal_login(client, api_world, "reviewer")
    url = f"/pruefung/antraege/{ref}/abrechnung"
    assert url in client.get(f"/pruefung/antraege/{ref}").text
    html = client.get(url).text
    assert "Festgesetzte Zuwendung" in html and "10.000,00" in html
    assert 'name="begruendung"' in html and "Rückzahlung erfassen" not in html

    rows = count(api_world, TransitionRecord)
    bad = _post(client, url, {})
    assert bad.status_code == 422 and 'id="begruendung-error"' in bad.text
    assert "Teilwiderruf" in bad.text and count(api_world, TransitionRecord) == rows
    done = _post(client, url, {"begruendung": "Honorare nicht belegt"})
    assert done.status_code == 303, done.text
    assert "Anhörung" in client.get(f"/pruefung/antraege/{ref}").text

    with unit_of_work(api_world.engine) as s:
        wf.fire(s, ref, "answer_hearing", api_world.actor("carrier"), reason="Einverstanden")
        wf.fire(s, ref, "revoke_partially", api_world.actor("approver"), reason="Teilwiderruf")
    html = client.get(url).text
    assert "Rückforderung" in html and "Fällig am" in html and 'name="betrag"' in html
    repay = f"{url}/rueckzahlung"

    def post_repayment(data: dict[str, str]):  # noqa: ANN202
        return client.post(repay, data={"csrf_token": csrf(client, url), **data},
                           follow_redirects=False)
    wrong_day = post_repayment({"betrag": "1.000,00", "valuta": "31.13.2026"})
    assert wrong_day.status_code == 422 and 'id="valuta-error"' in wrong_day.text
    too_much = post_repayment({"betrag": "99.000,00"})
    assert too_much.status_code == 422 and 'id="betrag-error"' in too_much.text
    assert "übersteigt" in too_much.text and count(api_world, Repayment) == 0
    paid = post_repayment({"betrag": "4.000,00", "vermerk": "Teilzahlung"})
    assert paid.status_code == 303, paid.text
    assert count(api_world, Repayment) == 1
    assert "4.000,00" in client.get(url).text

    # § 49a (4): the payment (dated back here) was used more than two months after it was paid.
    with unit_of_work(api_world.engine) as s:
        payment = s.exec(select(Payment)).one()
        payment.value_date -= timedelta(days=100)
        s.add(payment)
        payment_id, used_on = payment.id, payment.value_date + timedelta(days=90)
    html = client.get(url).text
    assert 'name="verwendet_am"' in html and html.count('name="verwendet_am"') == 1
    assert re.search(r"<title>[^<]*Abrechnung[^<]*</title>", html)
    late = f"{url}/spaete-verwendung"

    def post_late(data: dict[str, str]):  # noqa: ANN202
        return client.post(late, data={"csrf_token": csrf(client, url), **data},
                           follow_redirects=False)
    early = post_late({"zahlung": str(payment_id), "verwendet_am": "01.01.1990"})
    assert early.status_code == 422 and 'id="verwendet_am-error"' in early.text
    assert count(api_world, LateUse) == 0
    recorded = post_late({"zahlung": str(payment_id),
                          "verwendet_am": used_on.strftime("%d.%m.%Y")})
    assert recorded.status_code == 303, recorded.text
    assert count(api_world, LateUse) == 1

    portal_login(client, api_world, "carrier")
    case = client.get(f"/antraege/{ref}").text
    assert "Abrechnung" in case and "Rückforderung" in case
    assert "DE02300500000001234567" in case and f"Verwendungszweck {ref}" in case
    assert client.get(url, follow_redirects=False).status_code == 403
    with unit_of_work(api_world.engine) as s:
        assert s.exec(RepaymentClaim.__table__.select()).first().status == "open"
