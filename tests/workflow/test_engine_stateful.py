"""Random triggers by random actors: the rules of the lifecycle and the budget always hold; calls
of funds, checks and orders in between never pay above what is committed."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)
from sqlmodel import Session, SQLModel, func, select

from states import (
    ACTIONS,
    FINAL_STATES,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    ActionName,
    State,
    transitions_from,
)
from tests.factories import NOW, application_in, draft_fields, make_world
from tests.workflow.helpers import snapshot
from tests.workflow.test_payments import with_bank_account
from workflow import (
    applications,
    budget,
    deadlines,
    drafts,
    finality,
    payments,
    programme_admin,
    repository,
)
from workflow import engine as wf
from workflow.db import make_engine, unit_of_work
from workflow.errors import WorkflowError
from workflow.models import (
    Application,
    ApplicationYear,
    BudgetLine,
    Call,
    LedgerEntry,
    TransitionRecord,
)
from workflow.payment_tables import FundsCall, Payment

ACTORS = ["carrier", "other_carrier", "reviewer", "reviewer2", "approver", "admin", "observer"]
TRIGGERS = [t.trigger for t in TRANSITIONS]
MAIN_PATH = {
    "submit",
    "start_review",
    "recommend",
    "approve",
    "start",
    "submit_final_report",
    "close",
}
EUROS = st.sampled_from(["0", "15000", "20000", "40000", "60000.50"])
PAYMENT_TRIGGERS = [ACTIONS[a].history_trigger for a in (
    ActionName.call_funds, ActionName.check_funds_call, ActionName.order_payment)]
# The finality steps act beside the lifecycle too, but change the application (its version).
FINALITY_TRIGGERS = [ACTIONS[a].history_trigger for a in (
    ActionName.waive_appeal, ActionName.set_notification_date)]


class Lifecycle(RuleBasedStateMachine):
    apps = Bundle("apps")

    @initialize(policy=st.sampled_from(["waitlist", "reject"]))
    def setup(self, policy):
        self.db = make_engine("sqlite://")
        SQLModel.metadata.create_all(self.db)
        with unit_of_work(self.db) as s:
            self.world = make_world(
                s,
                policy=policy,
                min_grant_cents=10_000_00,
                years={2021: 120_000_00, 2022: 90_000_00},
                sources=("Landesmittel", "ESF"),
            )
            with_bank_account(s, self.world)
        self.now = NOW

    def teardown(self):
        self.db.dispose()

    @rule(target=apps, carrier=st.sampled_from(["carrier", "other_carrier"]), a=EUROS, b=EUROS)
    def create(self, carrier, a, b):
        with unit_of_work(self.db) as s:
            return drafts.create_application(
                s,
                getattr(self.world, carrier),
                self.world.call_id,
                draft_fields(
                    {"2021": a, "2022": b}, project_start="2022-06-01", project_end="2023-06-30"
                ),
                now=self.now,
            ).reference

    @rule(target=apps, a=st.sampled_from(["20000", "40000"]), b=st.sampled_from(["0", "30000"]))
    def approved(self, a, b):
        """An application of the carrier driven straight to approval, so that the money rules
        (finality, calls of funds, orders) meet approved projects often."""
        before = snapshot(self.db)
        try:
            with unit_of_work(self.db) as s:
                app = application_in(s, self.world, "approved", amounts={"2021": a, "2022": b},
                                     now=self.now)
                event("approved directly")
                return app.reference
        except WorkflowError as refusal:
            event(f"refused direct approval: {refusal.type}")
            assert snapshot(self.db) == before
            return multiple()

    @rule(
        ref=apps,
        trigger=st.sampled_from(TRIGGERS),
        who=st.sampled_from(ACTORS),
        reason=st.sampled_from([None, "Begründung"]),
        a=EUROS,
        b=EUROS,
        days=st.integers(0, 40),
        repayment=st.sampled_from([None, "0", "1000"]),
    )
    def fire(self, ref, trigger, who, reason, a, b, days, repayment):
        self._fire(ref, trigger, who, reason, a, b, days, repayment)

    def _fire(self, ref, trigger, who, reason, a, b, days, repayment):
        self.now += timedelta(days=days)
        payload = {
            "amounts": {"2021": a, "2022": b},
            "spending": {"2021": a, "2022": b},
            "documents": ["Satzung"],
        }
        if repayment is not None:
            payload["repayment"] = repayment
        actor = getattr(self.world, who)
        before = snapshot(self.db)
        with Session(self.db) as s:
            old_state = applications.load_application(s, ref).state
        try:
            with unit_of_work(self.db) as s:
                record = wf.fire(
                    s, ref, trigger, actor, reason=reason, payload=payload, now=self.now
                )
                spec = TRANSITIONS_BY_TRIGGER[record.trigger]
                assert State(old_state) in spec.sources
                assert record.to_state == spec.dest_from(State(old_state)).value
        except WorkflowError as refusal:
            event(f"refused {trigger}: {refusal.type}")
            assert snapshot(self.db) == before, f"refused {trigger} wrote something"

    @rule(ref=apps, data=st.data(), days=st.integers(0, 20))
    def advance(self, ref, data, days):
        """Runs of valid moves, so that the random walk reaches approval, reports and revocation."""
        for _ in range(data.draw(st.integers(4, 12))):
            self._advance_once(ref, data, days)

    def _advance_once(self, ref, data, days):
        with Session(self.db) as s:
            state = State(applications.load_application(s, ref).state)
        options = transitions_from(state)
        if not options:
            return
        main = [t for t in options if t.trigger in MAIN_PATH]
        spec = data.draw(
            st.sampled_from(main if main and data.draw(st.integers(0, 9)) < 7 else options)
        )
        roles = sorted(r.value for r in spec.roles if r.value != "system")
        if not roles:
            return
        role = data.draw(st.sampled_from(roles))
        with Session(self.db) as s:
            own = (applications.load_application(s, ref).organisation_id
                   == self.world.carrier.organisation_id)
        who = {
            "carrier": "carrier" if own else "other_carrier",
            "reviewer": data.draw(st.sampled_from(["reviewer", "reviewer2"])),
            "approver": "approver",
        }[role]
        with Session(self.db) as s:
            app = applications.load_application(s, ref)
            years = {
                y.year: y
                for y in s.exec(
                    select(ApplicationYear).where(ApplicationYear.application_id == app.id)
                )
            }
        # Recommend what was requested, report spending a little below what was approved.
        a, b = (
            (
                str(
                    (y.approved_cents or y.requested_cents) // 100
                    - data.draw(st.sampled_from([0, 1000]))
                )
                if y
                else "0"
            )
            for y in (years.get(2021), years.get(2022))
        )
        self._fire(
            ref,
            spec.trigger,
            who,
            "Begründung",
            a,
            b,
            days,
            data.draw(st.sampled_from(["0", "500"])),
        )
        with Session(self.db) as s:
            event(f"reached {applications.load_application(s, ref).state}")

    @rule(
        year=st.sampled_from([2021, 2022]),
        source=st.sampled_from(["Landesmittel", "ESF"]),
        delta=st.sampled_from([-50_000_00, -10_000_00, 10_000_00, 60_000_00]),
    )
    def change_budget(self, year, source, delta):
        before = snapshot(self.db)
        try:
            with unit_of_work(self.db) as s:
                programme_admin.change_budget(
                    s,
                    s.get(Call, self.world.call_id),
                    year,
                    source,
                    delta,
                    self.world.admin,
                    "Änderung",
                    now=self.now,
                )
        except WorkflowError:
            assert snapshot(self.db) == before

    @rule(ref=apps, year=st.sampled_from([2021, 2022]),
          amount=st.sampled_from(["0", "5000", "15000", "20000", "60000.50"]),
          checker=st.sampled_from(["reviewer", "approver"]),
          orderer=st.sampled_from(["reviewer", "reviewer2", "approver", "carrier"]),
          steps=st.integers(1, 3))
    def call_funds(self, ref, year, amount, checker, orderer, steps):
        """A call of funds of the carrier and, as far as `steps` goes, its check and order."""
        before = snapshot(self.db)
        try:
            with unit_of_work(self.db) as s:
                call = payments.request_call(s, ref, self.world.carrier, year=year,
                                             amount=amount, needed_within_two_months=True,
                                             now=self.now)
                if steps > 1:
                    payments.check_call(s, call.id, getattr(self.world, checker), now=self.now)
                if steps > 2:
                    payments.order_payment(s, call.id, getattr(self.world, orderer),
                                           now=self.now)
                event(f"call of funds: {steps} step(s)")
        except WorkflowError as refusal:
            event(f"refused call of funds: {refusal.type}")
            assert snapshot(self.db) == before

    @rule(ref=apps, waive=st.booleans(),
          who=st.sampled_from(["carrier"] * 4 + ["other_carrier", "reviewer", "approver",
                                                  "admin"]),
          back=st.integers(-2, 45))
    def finality_step(self, ref, waive, who, back):
        """The carrier waives its right of appeal, or staff record the day of notification
        (`back` days ago; a future day or one before the notice is refused)."""
        before = snapshot(self.db)
        actor = getattr(self.world, who)
        try:
            with unit_of_work(self.db) as s:
                if waive:
                    finality.waive_appeal(s, ref, actor, now=self.now)
                else:
                    day = deadlines.local_date(self.now) - timedelta(days=back)
                    finality.set_notification_date(s, ref, actor, notified_on=day,
                                                   reason="Zustellung", now=self.now)
                event(f"finality: {'waiver' if waive else 'notification date'}")
        except WorkflowError as refusal:
            event(f"refused finality step: {refusal.type}")
            assert snapshot(self.db) == before

    @rule(declare=st.booleans())
    def funding_stop(self, declare):
        before = snapshot(self.db)
        try:
            with unit_of_work(self.db) as s:
                call = s.get(Call, self.world.call_id)
                if declare:
                    programme_admin.declare_funding_stop(s, call, "erklärt", self.world.admin,
                                                         now=self.now)
                else:
                    programme_admin.lift_funding_stop(s, call, self.world.admin, now=self.now)
        except WorkflowError:
            assert snapshot(self.db) == before

    @invariant()
    def states_are_known_and_history_replays(self):
        if not hasattr(self, "db"):
            return
        with Session(self.db) as s:
            for app in s.exec(select(Application)):
                assert State(app.state)
                state = None
                for rec in s.exec(
                    select(TransitionRecord)
                    .where(TransitionRecord.application_id == app.id)
                    .order_by(TransitionRecord.id)
                ):
                    if rec.trigger in PAYMENT_TRIGGERS + FINALITY_TRIGGERS:  # beside the lifecycle
                        assert rec.from_state == rec.to_state == state
                        continue
                    assert rec.from_state == state
                    if rec.trigger != "create":
                        spec = TRANSITIONS_BY_TRIGGER[rec.trigger]
                        assert State(state) in spec.sources
                        assert rec.to_state == spec.dest_from(State(state)).value
                    state = rec.to_state
                assert state == app.state
                assert (
                    app.version
                    == s.exec(
                        select(func.count()).where(
                            TransitionRecord.application_id == app.id,
                            TransitionRecord.trigger.not_in(PAYMENT_TRIGGERS))
                    ).one()
                )

    @invariant()
    def money_is_never_overcommitted(self):
        if not hasattr(self, "db"):
            return
        with Session(self.db) as s:
            for line in s.exec(select(BudgetLine)):
                assert 0 <= line.committed_cents <= line.budget_cents
                committed, total = s.exec(
                    select(
                        func.coalesce(func.sum(LedgerEntry.committed_delta_cents), 0),
                        func.coalesce(func.sum(LedgerEntry.budget_delta_cents), 0),
                    ).where(LedgerEntry.budget_line_id == line.id)
                ).one()
                assert committed == line.committed_cents and total == line.budget_cents
            for app in s.exec(select(Application)):
                # Money paid stays committed (until it is repaid): a release leaves it.
                held = sum(budget.commitments(s, app.id).values()) - sum(
                    repository.paid_by_line(s.connection(), app.id).values())
                assert held >= 0
                if State(app.state) in FINAL_STATES - {State.closed} or app.state in (
                    "draft",
                    "submitted",
                    "in_review",
                    "documents_requested",
                    "recommended",
                    "waitlisted",
                ):
                    assert held == 0, (app.state, held)

    @invariant()
    def never_paid_above_committed(self):
        if not hasattr(self, "db"):
            return
        with Session(self.db) as s:
            for y in s.exec(select(ApplicationYear)):
                assert 0 <= y.paid_cents <= y.committed_cents and y.paid_cents <= y.called_cents
                paid = s.exec(select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                    Payment.application_id == y.application_id, Payment.year == y.year)).one()
                assert paid == y.paid_cents
            for line in s.exec(select(BudgetLine)):
                assert 0 <= line.paid_cents - line.repaid_cents <= line.committed_cents
                paid = s.exec(select(func.coalesce(func.sum(LedgerEntry.paid_delta_cents), 0))
                              .where(LedgerEntry.budget_line_id == line.id)).one()
                assert paid == line.paid_cents
            for call in s.exec(select(FundsCall)):
                assert call.checked_by_id is None or call.checked_by_id != call.ordered_by_id
                assert (call.status == "ordered") == (call.ordered_by_id is not None)
            for app in s.exec(select(Application)):
                if app.appeal_waived_at is not None:  # a waiver makes the notice final at once
                    waived_on = deadlines.local_date(app.appeal_waived_at)
                    assert finality.finality_of(app).is_final(waived_on)


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

