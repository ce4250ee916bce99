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
from datetime import date, datetime
from typing import Any

from bot.domain import texts

__all__ = [
    "CASE_TYPES",
    "CaseTypePolicy",
    "StepTemplate",
    "policy_for",
    "say",
    "speaks",
    "step_update",
    "what_comes_next",
]


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


def say(language: str, key: str, **values: Any) -> str:
    """The SMS text ``key`` in ``language`` (Danish when there is no translation), filled in.

    The texts live in the one catalogue of SMS texts, ``bot.domain.texts``.
    """
    return texts.text(language, key, **values)


def title(step: StepTemplate, language: str) -> str:
    """The step's title in ``language``: the template's own, the catalogue's, else Danish."""
    return _in_language(step.title, language)


def reached(step: StepTemplate, language: str) -> str:
    """What the citizen is told when the step is reached, in ``language`` (else Danish)."""
    return _in_language(step.reached, language)


def _in_language(by_language: dict[str, str], language: str) -> str:
    code = texts.sms_language(language)
    return by_language.get(code) or texts.translated(code, by_language["da"]) or by_language["da"]


def speaks(policy: CaseTypePolicy, language: str) -> bool:
    """Whether every step of ``policy`` has its title and sentence in ``language``.

    A municipality's own step texts may lack a language: a message that would
    mix two languages is then written in Danish throughout.
    """
    code = texts.sms_language(language)
    return all(
        (s.title.get(code) or texts.translated(code, s.title["da"]))
        and (s.reached.get(code) or texts.translated(code, s.reached["da"]))
        for s in policy.steps
    )


def step_update(
    step: StepTemplate,
    language: str,
    *,
    following: bool,
    next_step: StepTemplate | None = None,
    expected_on: date | None = None,
) -> str:
    """The update a citizen gets when the case reaches ``step``, in ``language``.

    "Din sag er nu sendt til visitation. Næste skridt: … Forventet svar: …": what
    was reached, then (when a step is ``following`` it) :func:`what_comes_next`.
    The one way the sentence is put together, for the SMS and for the segment
    check when a template is saved.
    """
    parts = [reached(step, language)]
    if following:
        parts += what_comes_next(language, next_step, expected_on)
    return " ".join(parts)


def what_comes_next(
    language: str, step: StepTemplate | None, expected_on: date | None
) -> list[str]:
    """ "Næste skridt: … Forventet svar: …" for the next step, as far as it is known."""
    parts: list[str] = []
    if step is not None:
        parts.append(say(language, "next", step=title(step, language)))
    if expected_on is not None:
        parts.append(say(language, "expected", date=long_date(expected_on, language)))
    return parts


def long_date(d: date, language: str) -> str:
    """A date the way messages write it ("tirsdag den 25. februar"), in the SMS's language."""
    return texts.long_date(d, language)


def clock_time(at: datetime, language: str) -> str:
    """The time of day of ``at`` as the SMS's language writes it ("10:30", "10:30 ص")."""
    return texts.clock_time(at, language)
