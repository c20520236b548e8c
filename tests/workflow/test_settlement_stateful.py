"""Random walks over approve → pay → final report → final grant → settle → hearing →
partial revocation → repayments → close: money never goes wrong. Never paid above committed,
never committed above the budget, repaid never above paid, a claim never repaid beyond its
principal, and the ledger's sums always equal the running columns. Refusals write nothing."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from sqlmodel import Session, SQLModel, select

from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import snapshot
from tests.workflow.settlement_helpers import fix_final_grant, pay, report
from tests.workflow.test_payments import with_bank_account
from workflow import engine as wf
from workflow import payments, settlement
from workflow.claim_tables import ClaimYear, Repayment, RepaymentClaim
from workflow.db import make_engine, unit_of_work
from workflow.errors import WorkflowError
from workflow.models import Application, ApplicationYear, BudgetLine

EUROS = st.sampled_from(["10000", "25000", "40000", "60000"])
CENTS = st.sampled_from([0, 5_000_00, 15_000_00, 30_000_00, 45_000_00])


class Settlement(RuleBasedStateMachine):
    apps = Bundle("apps")

    @initialize()
    def setup(self):
        self.db = make_engine("sqlite://")
        SQLModel.metadata.create_all(self.db)
        with unit_of_work(self.db) as s:
            self.world = make_world(s, min_grant_cents=10_000_00,
                                    years={2021: 120_000_00, 2022: 90_000_00},
                                    sources=("Landesmittel", "ESF"))
            with_bank_account(s, self.world)
        self.now = NOW

    def teardown(self):
        self.db.dispose()

    def _try(self, name, action):
        before = snapshot(self.db)
        try:
            with unit_of_work(self.db) as s:
                result = action(s)
            event(f"{name}: done")
            return result
        except WorkflowError as refusal:
            event(f"{name}: refused {refusal.type}")
            assert snapshot(self.db) == before, f"refused {name} wrote something"
            return None

    @rule(target=apps, a=EUROS, b=EUROS)
    def approve_and_start(self, a, b):
        ref = self._try("approve", lambda s: application_in(
            s, self.world, "active", amounts={"2021": a, "2022": b}, now=self.now).reference)
        return ref or "ZiQ-2020-9999"

    @rule(target=apps, paid=st.sampled_from(["10000", "25000"]), grant=CENTS)
    def paid_and_reported(self, paid, grant):
        """The long way in one step, so that the walk reaches the settlement often."""
        def journey(s):
            ref = application_in(s, self.world, "active", amounts={"2021": "30000",
                                                                   "2022": "10000"},
                                 now=self.now).reference
            pay(s, self.world, ref, 2021, paid, now=self.now)
            report(s, self.world, ref, {"2021": "1", "2022": "1"}, now=self.now)
            fix_final_grant(s, ref, {2021: grant, 2022: 0})
            return ref
        return self._try("paid and reported", journey) or "ZiQ-2020-9999"

    @rule(ref=apps, days=st.integers(1, 40))
    def settle_hear_and_revoke(self, ref, days):
        def steps(s):
            settlement.settle(s, ref, self.world.reviewer, reason="Überzahlung", now=self.now)
            wf.fire(s, ref, "answer_hearing", self.world.carrier, reason="Stellungnahme",
                    now=self.now)
            wf.fire(s, ref, "revoke_partially", self.world.approver, reason="Teilwiderruf",
                    now=self.now + timedelta(days=days))
        self._try("settle, hearing, partial revocation", steps)
        self.now += timedelta(days=days)

    @rule(ref=apps, year=st.sampled_from([2021, 2022]), amount=EUROS)
    def pay(self, ref, year, amount):
        self._try("pay", lambda s: pay(s, self.world, ref, year, amount, now=self.now))

    @rule(ref=apps)
    def report(self, ref):
        self._try("report", lambda s: report(s, self.world, ref, {"2021": "1", "2022": "1"},
                                             now=self.now))

    @rule(ref=apps, a=CENTS, b=CENTS)
    def fix_final_grant(self, ref, a, b):
        self._try("final grant", lambda s: fix_final_grant(s, ref, {2021: a, 2022: b}))

    @rule(ref=apps)
    def settle(self, ref):
        self._try("settle", lambda s: settlement.settle(s, ref, self.world.reviewer,
                                                        reason="Überzahlung", now=self.now))

    @rule(ref=apps, days=st.integers(1, 40))
    def hearing_and_partial_revocation(self, ref, days):
        self._try("answer", lambda s: wf.fire(s, ref, "answer_hearing", self.world.carrier,
                                              reason="Stellungnahme", now=self.now))
        self.now += timedelta(days=days)
        self._try("revoke_partially", lambda s: wf.fire(
            s, ref, "revoke_partially", self.world.approver, reason="Teilwiderruf",
            now=self.now))

    @rule(ref=apps, days=st.integers(0, 60), amount=st.sampled_from(
        ["100", "2500,50", "10000", "40000"]))
    def repay(self, ref, days, amount):
        self.now += timedelta(days=days)
        self._try("repay", lambda s: settlement.record_repayment(
            s, ref, self.world.reviewer, amount=amount, now=self.now))

    @rule(ref=apps, days=st.integers(0, 60))
    def repay_the_rest(self, ref, days):
        self.now += timedelta(days=days)

        def rest(s):
            app = s.exec(select(Application).where(Application.reference == ref)).first()
            claim = settlement.claim_of(s, app.id) if app else None
            if claim is None or claim.status != "open":
                return
            day = settlement.deadlines.local_date(self.now)
            open_cents = settlement.claim_balance(s, claim, day).open_cents
            settlement.record_repayment(s, ref, self.world.reviewer,
                                        amount=settlement.euros(open_cents), now=self.now)
        self._try("repay the rest", rest)

    @rule(ref=apps)
    def close(self, ref):
        self._try("close", lambda s: wf.fire(s, ref, "close", self.world.reviewer,
                                             now=self.now))

    @invariant()
    def money_holds(self):
        if not hasattr(self, "db"):
            return
        with Session(self.db) as s:
            for line in s.exec(select(BudgetLine)):
                assert 0 <= line.committed_cents <= line.budget_cents
                assert 0 <= line.repaid_cents <= line.paid_cents
                assert line.paid_cents - line.repaid_cents <= line.committed_cents
            for y in s.exec(select(ApplicationYear)):
                assert 0 <= y.repaid_cents <= y.paid_cents
                assert y.paid_cents - y.repaid_cents <= y.committed_cents
            for line in payments.ledger_by_line(s, self.world.call_id):
                assert line["ledger_cents"] == (line["budget_cents"], line["committed_cents"],
                                                line["paid_cents"], line["repaid_cents"])
            for claim in s.exec(select(RepaymentClaim)):
                parts = s.exec(select(ClaimYear).where(ClaimYear.claim_id == claim.id)).all()
                assert sum(p.principal_cents for p in parts) == claim.principal_cents
                assert sum(p.repaid_cents for p in parts) == claim.principal_repaid_cents
                received = s.exec(select(Repayment).where(Repayment.claim_id == claim.id)).all()
                assert sum(r.principal_cents for r in received) == claim.principal_repaid_cents
                assert claim.principal_repaid_cents <= claim.principal_cents
                if claim.status == "paid":
                    assert claim.principal_repaid_cents == claim.principal_cents


Settlement.TestCase.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestSettlement = Settlement.TestCase
