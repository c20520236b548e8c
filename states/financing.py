"""The Kosten- und Finanzierungsplan as data: the kinds of financing a call may choose, what
each means for the grant, and the financing lines every plan has. The cost headings are
programme configuration (`config["finance_plan"]["expense_headings"]`), not fixed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from states.labels import Label


class FinancingKind(StrEnum):
    """Finanzierungsart of a call (VV zu § 44 LHO no. 2.2)."""

    shortfall = "shortfall"  # Fehlbedarfsfinanzierung
    share = "share"  # Anteilfinanzierung
    fixed = "fixed"  # Festbetragsfinanzierung


@dataclass(frozen=True)
class Financing:
    """One Finanzierungsart: its label, what it means, and which call setting it needs."""

    kind: FinancingKind
    label: Label
    meaning: Label
    needs_share: bool = False  # the call sets the share of eligible expenses
    needs_fixed: bool = False  # the call sets the fixed sum per budget year


FINANCING: dict[FinancingKind, Financing] = {f.kind: f for f in (
    Financing(FinancingKind.shortfall, Label("Fehlbedarfsfinanzierung", "Shortfall financing"),
              Label("Die Zuwendung deckt die Lücke zwischen den Ausgaben und den Eigen- und "
                    "Drittmitteln, höchstens bis zum Höchstbetrag.",
                    "The grant covers the gap between the expenses and the own and third-party "
                    "money, up to the maximum.")),
    Financing(FinancingKind.share, Label("Anteilfinanzierung", "Share financing"),
              Label("Die Zuwendung deckt höchstens den festgelegten Anteil der "
                    "zuwendungsfähigen Ausgaben, höchstens bis zum Höchstbetrag.",
                    "The grant covers at most the set share of the eligible expenses, up to "
                    "the maximum."), needs_share=True),
    Financing(FinancingKind.fixed, Label("Festbetragsfinanzierung", "Fixed-sum financing"),
              Label("Die Zuwendung ist ein fester Betrag je Haushaltsjahr; die übrigen "
                    "Ausgaben trägt der Träger mit Eigen- und Drittmitteln.",
                    "The grant is a fixed sum per budget year; the carrier covers the other "
                    "expenses with own and third-party money."), needs_fixed=True),
)}
DEFAULT_FINANCING = FinancingKind.shortfall


class FinancingLine(StrEnum):
    """The financing side of every plan, fixed by the domain."""

    own = "own"  # Eigenmittel
    third_party = "third_party"  # Drittmittel
    grant = "grant"  # beantragte Zuwendung: follows from the Finanzierungsart


FINANCING_LABELS: dict[FinancingLine, Label] = {
    FinancingLine.own: Label("Eigenmittel", "Own funds"),
    FinancingLine.third_party: Label("Drittmittel", "Third-party funds"),
    FinancingLine.grant: Label("Beantragte Zuwendung", "Requested grant"),
}
# What the carrier types; the grant line is computed from them and the call's Finanzierungsart.
CARRIER_FINANCING = (FinancingLine.own, FinancingLine.third_party)
EXPENSE = "expense"  # the kind of a plan line that holds the expenses of one cost heading
