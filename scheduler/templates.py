"""Case types: the built-in timeline template and follow-up policy of each.

These are the defaults every municipality starts from; what applies to a
municipality is stored and edited per tenant (``scheduler.casetypes``).

A timeline (milepæle) is started from its case type's template; each step has
a plain-language title, the sentence a citizen gets when the case reaches it,
and how many working days after the start it is expected. The policy says
after how many working days without news the caseworker is nudged, and
whether the "still working on it" update then goes out by itself.

Every text here is short, plain and free of personal data: it may travel by SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from babel import UnknownLocaleError

from bot.base.workdays import format_long_date

__all__ = ["CASE_TYPES", "CaseTypePolicy", "StepTemplate", "policy_for", "say"]


@dataclass(frozen=True, slots=True)
class StepTemplate:
    """One step of a timeline template."""

    key: str
    title: dict[str, str]
    # What the citizen is told when the case reaches this step.
    reached: dict[str, str]
    # Expected this many working days after the timeline starts (or after ``after``).
    expected_after: int
    # The earlier step the offset counts from; None: the start of the timeline.
    after: str | None = None


@dataclass(frozen=True, slots=True)
class CaseTypePolicy:
    """Sagstype: timeline template and follow-up policy."""

    key: str
    steps: tuple[StepTemplate, ...]
    # Nudge when the citizen has had no update for this many working days.
    nudge_days: int
    # True: the "still working on it" update goes out by itself; False: a task.
    auto_update: bool

    def step(self, key: str) -> StepTemplate | None:
        return next((s for s in self.steps if s.key == key), None)


def _step(key: str, da: str, en: str, reached_da: str, reached_en: str, after: int) -> StepTemplate:
    return StepTemplate(key, {"da": da, "en": en}, {"da": reached_da, "en": reached_en}, after)


_RECEIVED = _step(
    "received",
    "Vi har modtaget din sag",
    "We have received your case",
    "Vi har modtaget din sag.",
    "We have received your case.",
    0,
)

CASE_TYPES: dict[str, CaseTypePolicy] = {
    "general": CaseTypePolicy(
        "general",
        (
            _RECEIVED,
            _step(
                "in_progress",
                "Vi behandler din sag",
                "We are working on your case",
                "Vi er nu i gang med at behandle din sag.",
                "We are now working on your case.",
                5,
            ),
            _step(
                "decision",
                "Afgørelse",
                "Decision",
                "Der er truffet afgørelse i din sag. Du får den i Digital Post.",
                "A decision has been made in your case. You will get it in Digital Post.",
                20,
            ),
        ),
        nudge_days=10,
        auto_update=False,
    ),
    "kontanthjaelp": CaseTypePolicy(
        "kontanthjaelp",
        (
            _RECEIVED,
            _step(
                "information",
                "Vi indhenter oplysninger",
                "We are gathering information",
                "Vi har nu de oplysninger, vi skal bruge.",
                "We now have the information we need.",
                10,
            ),
            _step(
                "visitation",
                "Sagen er sendt til visitation",
                "Your case is with the assessment team",
                "Din sag er nu sendt til visitation.",
                "Your case has now been sent to the assessment team.",
                15,
            ),
            _step(
                "decision",
                "Afgørelse",
                "Decision",
                "Der er truffet afgørelse i din sag. Du får den i Digital Post.",
                "A decision has been made in your case. You will get it in Digital Post.",
                25,
            ),
        ),
        nudge_days=5,
        auto_update=True,
    ),
    "boernesag": CaseTypePolicy(
        "boernesag",
        (
            _RECEIVED,
            _step(
                "investigation",
                "Børnefaglig undersøgelse",
                "Assessment of the child's situation",
                "Vi er nu i gang med den børnefaglige undersøgelse.",
                "We have started the assessment of your child's situation.",
                10,
            ),
            _step(
                "meeting",
                "Møde med familien",
                "Meeting with the family",
                "Undersøgelsen er færdig. Næste gang ses vi til et møde.",
                "The assessment is done. Next, we will meet with you.",
                60,
            ),
            _step(
                "decision",
                "Afgørelse",
                "Decision",
                "Der er truffet afgørelse i din sag. Du får den i Digital Post.",
                "A decision has been made in your case. You will get it in Digital Post.",
                80,
            ),
        ),
        nudge_days=10,
        auto_update=False,
    ),
}


def policy_for(case_type: str) -> CaseTypePolicy | None:
    """The policy of a case type, or None for a type we have no template for."""
    return CASE_TYPES.get(case_type)


_TEXTS: dict[str, dict[str, str]] = {
    "da": {
        "next": "Næste skridt: {step}.",
        "expected": "Forventet svar: {date}.",
        "status": "Din sag: {step}.",
        "still_working": "Vi arbejder stadig på din sag.",
        "still_next": "Næste skridt er: {step}.",
        "still_week": "Vi forventer at kunne svare dig i uge {week}.",
        "appointment": (
            "Påmindelse: Du har et møde med {tenant} {date} kl. {time}. "
            "Svar OK for at bekræfte, FLYT hvis du vil flytte det, eller AFLYS."
        ),
        "appointment_moved": "Dit møde med {tenant} er flyttet til {date} kl. {time}.",
        "appointment_cancelled": "Dit møde med {tenant} {date} kl. {time} er aflyst.",
        "confirmed": "Tak. Vi har noteret, at du kommer {date} kl. {time}.",
        "move_asked": (
            "Tak. Vi har bedt din sagsbehandler om at finde en ny tid. "
            "Du hører fra os senest {date}."
        ),
        "cancel_asked": (
            "Tak. Vi har givet din sagsbehandler besked om, at du vil aflyse. "
            "Du hører fra os senest {date}."
        ),
        "deadline_partshoering": (
            "Husk: Fristen for at sende dine bemærkninger til os er {date}. "
            "Skriv til os, hvis du har brug for mere tid."
        ),
        "deadline_dokumentation": (
            "Husk: Vi skal have dine papirer senest {date}. "
            "Skriv til os, hvis du har brug for mere tid."
        ),
        "deadline_andet": (
            "Husk: Du har en frist i din sag {date}. Skriv til os, hvis du har spørgsmål."
        ),
        "delayed": "Vi beklager: Svaret til dig er forsinket. Du hører fra os senest {date}.",
    },
    "en": {
        "next": "Next step: {step}.",
        "expected": "Expected answer: {date}.",
        "status": "Your case: {step}.",
        "still_working": "We are still working on your case.",
        "still_next": "The next step is: {step}.",
        "still_week": "We expect to answer you in week {week}.",
        "appointment": (
            "Reminder: You have a meeting with {tenant} on {date} at {time}. "
            "Reply OK to confirm, FLYT to move it, or AFLYS to cancel."
        ),
        "appointment_moved": "Your meeting with {tenant} has been moved to {date} at {time}.",
        "appointment_cancelled": "Your meeting with {tenant} on {date} at {time} is cancelled.",
        "confirmed": "Thank you. We have noted that you will come on {date} at {time}.",
        "move_asked": (
            "Thank you. We have asked your caseworker to find a new time. "
            "You will hear from us by {date}."
        ),
        "cancel_asked": (
            "Thank you. We have told your caseworker that you want to cancel. "
            "You will hear from us by {date}."
        ),
        "deadline_partshoering": (
            "Reminder: Please send us your comments by {date}. Write to us if you need more time."
        ),
        "deadline_dokumentation": (
            "Reminder: We need your papers by {date}. Write to us if you need more time."
        ),
        "deadline_andet": (
            "Reminder: There is a deadline in your case on {date}. "
            "Write to us if you have questions."
        ),
        "delayed": "We are sorry: our answer to you is delayed. You will hear from us by {date}.",
    },
}


def say(language: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``language`` (Danish when there is no translation), filled in."""
    template = _TEXTS.get(language, {}).get(key) or _TEXTS["da"][key]
    return template.format(**values)


def title(step: StepTemplate, language: str) -> str:
    return step.title.get(language) or step.title["da"]


def reached(step: StepTemplate, language: str) -> str:
    return step.reached.get(language) or step.reached["da"]


@lru_cache(maxsize=4096)
def long_date(d: date, language: str) -> str:
    """A date the way messages write it ("tirsdag den 25. februar"), falling back to Danish."""
    try:
        return format_long_date(d, language)
    except (ValueError, UnknownLocaleError):
        return format_long_date(d, "da")
