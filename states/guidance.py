"""What a carrier should do next, per state: the sentence "Meine Anträge" and the case page show.
Plain words a Träger understands; the deadline itself comes from the open deadlines."""

from __future__ import annotations

from states.labels import Label
from states.lifecycle import State

CARRIER_NEXT_STEP: dict[State, Label] = {
    State.draft: Label("Entwurf vervollständigen und einreichen.",
                       "Complete the draft and submit it."),
    State.submitted: Label("Nichts zu tun: Ihr Antrag ist eingegangen und wartet auf die "
                           "Prüfung.", "Nothing to do: your application was received and "
                           "awaits review."),
    State.in_review: Label("Nichts zu tun: Ihr Antrag wird geprüft.",
                           "Nothing to do: your application is being reviewed."),
    State.documents_requested: Label("Fehlende Unterlagen hochladen (Nachforderung).",
                                     "Upload the missing documents (request)."),
    State.recommended: Label("Nichts zu tun: Ihr Antrag ist zur Bewilligung vorgeschlagen.",
                             "Nothing to do: your application is proposed for approval."),
    State.waitlisted: Label("Nichts zu tun: Ihr Antrag steht auf der Warteliste; wir melden "
                            "uns, sobald wieder Mittel frei sind.",
                            "Nothing to do: your application is on the waiting list; we will "
                            "be in touch when money becomes available."),
    State.approved: Label("Bewilligt: den Zuwendungsbescheid in der Akte lesen.",
                          "Approved: read the grant notice in the case file."),
    State.rejected: Label("Abgelehnt: die Begründung steht im Bescheid in der Akte.",
                          "Rejected: the reasons are in the notice in the case file."),
    State.withdrawn: Label("Zurückgezogen: nichts mehr zu tun.", "Withdrawn: nothing to do."),
    State.active: Label("Projekt durchführen; Zwischen- und Verwendungsnachweis fristgerecht "
                        "einreichen.", "Run the project; submit the interim and final reports "
                        "on time."),
    State.report_submitted: Label("Nichts zu tun: Ihr Verwendungsnachweis wird geprüft.",
                                  "Nothing to do: your final report is being checked."),
    State.report_changes_requested: Label("Verwendungsnachweis nachbessern und erneut "
                                          "einreichen.", "Revise the final report and submit "
                                          "it again."),
    State.closed: Label("Abgeschlossen: nichts mehr zu tun.", "Closed: nothing to do."),
    State.revocation_hearing: Label("Zur Anhörung Stellung nehmen.",
                                    "Reply to the hearing."),
    State.revoked: Label("Widerrufen: die Rückforderung steht im Bescheid in der Akte.",
                         "Revoked: the repayment claim is in the notice in the case file."),
    State.partially_revoked: Label("Teilweise widerrufen: den Rückforderungsbetrag mit Zinsen "
                                   "bis zur Fälligkeit auf das angegebene Konto überweisen.",
                                   "Partially revoked: pay the repayment claim with interest "
                                   "by its due date to the account given."),
}
