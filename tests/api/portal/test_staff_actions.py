"""The staff action forms come from the transition table: a new row gets its fields from its
guards, the deadlines it opens and its effects, without template work; the posted form becomes
the firing's reason and payload."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from api.portal import staff_actions as actions
from states import TRANSITIONS_BY_TRIGGER, DeadlineKind, Effect, Guard, Role, State
from states.labels import Label
from states.lifecycle import Transition
from workflow.errors import InvalidInput

NEW_ROW = Transition("ask_again", (State.in_review,), State.documents_requested,
                     frozenset({Role.reviewer}), Label("Erneut fragen", "Ask again"),
                     guards=(Guard.reason_given, Guard.amounts_given, Guard.repayment_given),
                     effects=(Effect.record_waiver_of_appeal,),
                     opens=(DeadlineKind.document_request,))


def test_a_new_row_gets_its_fields_from_the_table() -> None:
    names = [kind.name for kind in actions.inputs_of(NEW_ROW)]
    assert names == ["reason", "amounts", "repayment", "documents", "deadline",
                     "waiver_of_appeal"]


def test_the_existing_staff_rows() -> None:
    def names(trigger: str) -> list[str]:
        return [k.name for k in actions.inputs_of(TRANSITIONS_BY_TRIGGER[trigger])]
    assert names("request_documents") == ["reason", "documents", "deadline"]
    assert names("recommend") == ["reason", "amounts"]
    assert names("start_review") == []
    assert names("revoke") == ["reason", "repayment"]


def test_the_posted_form_becomes_reason_and_payload() -> None:
    form = FormData([("ask_again__reason", "  Bitte nachreichen. "),
                     ("ask_again__amounts__2027", "40.000,00"),
                     ("ask_again__amounts__2028", ""),
                     ("ask_again__repayment", "100"),
                     ("ask_again__documents", "Satzung\n\n Registerauszug \n"),
                     ("ask_again__deadline", "2030-01-31"),
                     ("ask_again__waiver_of_appeal", "ja"),
                     ("other__reason", "not this form's")])
    reason, payload = actions.payload_from(form, NEW_ROW)
    assert reason == "Bitte nachreichen."
    assert payload == {"amounts": {"2027": "40.000,00"}, "repayment": "100",
                       "documents": ["Satzung", "Registerauszug"], "deadline": "2030-01-31",
                       "waiver_of_appeal": True}
    assert actions.payload_from(FormData([]), NEW_ROW) == (None, {})


def test_a_bad_date_is_refused_on_its_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        actions.payload_from(FormData([("ask_again__deadline", "31.01.2030")]), NEW_ROW)
    assert refused.value.extra["field"] == "deadline"
    assert actions.errors_for("ask_again", refused.value, "de", NEW_ROW) == {
        "ask_again__deadline": refused.value.message("de")}
