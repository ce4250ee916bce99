"""The decision guard (afgørelsesværn): an afgørelse never goes by SMS or secure inbox.

Under Danish administrative law a decision (afgørelse: a grant, a refusal, an
award, a stop, a reduction, a repayment claim, a sanction, "du har (ikke) ret
til …", "vi har besluttet …") must reach the citizen as a letter by Digital
Post with its complaints notice (klagevejledning). Text a person writes to a
citizen is read by :func:`read` before it is queued (:func:`refuse_decision`,
called by :func:`bot.domain.outbound.outbound_sms` for the kinds in
:data:`AUTHORED_KINDS`), and again by the send-time gate for anything queued
before this rule (:mod:`bot.domain.guard.sendtime`).
"""

from __future__ import annotations

from bot.base.errors import BadInput
from bot.domain.guard.reader import Reading, read

# Outbound kinds a person writes (a caseworker's reply, a quick update or the case
# system's update, a send-later SMS); system texts (receipts, reminders) are ours.
AUTHORED_KINDS = frozenset({"reply", "update", "scheduled"})

# What a message says it is (the caseworker's tick, the case system's ``nature``).
NATURES = ("message", "guidance", "decision")
# Plain words on what a message is: guidance is not an (appealable) decision.
GUIDANCE_LINE = "Dette er vejledning. Der er ikke truffet en afgørelse."

CODE = "decision_not_allowed"
MESSAGE = (
    "Teksten lyder som en afgørelse, og en afgørelse må ikke sendes på SMS eller i den "
    "sikre indbakke. Send den som brev med Digital Post med klagevejledning fra "
    "sagssystemet. Skriv her kun, at afgørelsen er på vej."
)


class DecisionNotAllowed(BadInput):
    """400 ``decision_not_allowed``: the text reads as an afgørelse; ``why`` says why."""

    def __init__(self, why: list[str]) -> None:
        super().__init__(MESSAGE + " (" + "; ".join(why) + ")", code=CODE)
        self.why = list(why)


def authored(text: str) -> str:
    """``text`` without the guidance line we add (:func:`as_sent`): the guard reads what a
    person wrote, not our own words (the model may read "Der er ikke truffet en afgørelse"
    under plain guidance as a decision)."""
    return text.removesuffix(f"\n{GUIDANCE_LINE}")


def refuse_decision(text: str) -> None:
    """Raise :class:`DecisionNotAllowed` when ``text`` (without our guidance line) reads as
    an afgørelse."""
    reading = read(authored(text))
    if reading.decision:
        raise DecisionNotAllowed(reading.why)


def as_sent(body: str, nature: str = "message") -> str:
    """The text to send for a message of ``nature``; refused if it is (or reads as) a decision.

    A decision flagged as guidance is refused like any other: the flag does not
    make it guidance. Guidance gets its plain line ("Dette er vejledning …").

    Raises:
        DecisionNotAllowed: ``nature`` is "decision", or the text reads as one.
    """
    if nature == "decision":
        raise DecisionNotAllowed(["markeret som afgørelse"])
    refuse_decision(body)
    return f"{body}\n{GUIDANCE_LINE}" if nature == "guidance" else body


__all__ = [
    "GUIDANCE_LINE",
    "NATURES",
    "as_sent",
    "AUTHORED_KINDS",
    "authored",
    "CODE",
    "DecisionNotAllowed",
    "MESSAGE",
    "Reading",
    "read",
    "refuse_decision",
]
