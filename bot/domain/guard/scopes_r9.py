"""The ninth round's scopes (train-r9-*), and the practical arrangements the model may not
overrule.

:data:`SCOPES` turns a cue into no decision, like those of :mod:`bot.domain.guard.scopes`:
someone else (a relief family, a mentor) has said they are stopping, the citizen's question
put back to them ("du har spurgt om du 'får afslag …'"), a complaints notice for a decision
sent as a letter ("you can appeal the refusal within 4 weeks of getting the letter"), a right
to bring someone along in Arabic, what is missing ("uden dem kan vi ikke bevilge noget"), a
rule with its condition ("… gives kun, hvis …"), nothing decided ("ingen ting er besluttet").

:data:`ARRANGEMENTS` are scopes that describe a whole sentence as a practical arrangement
(a ticket or a fare to a meeting, a meeting moved, a form approved). The reader lets them
stop the model alone from refusing: when one of them matches a sentence and no cue counted,
the model may not overrule the rule that read the text as a practical arrangement (as it may
not overrule a scope that set a cue aside). Written against the folded normal form of
:mod:`bot.domain.guard.text`.
"""

from __future__ import annotations

from bot.domain.guard.scopes import FARE_TO_MEETING, FORM, MEETING, SAID_NO, Scope, _scope

# Who reports: not the municipality itself ("kommunen har sagt, at de stopper din ydelse").
_NOT_US = r"(?<!\bkommunen )(?<!\bvi )(?<!\bwe )(?<!\bjobcentret )(?<!\bcouncil )"

SCOPES: tuple[Scope, ...] = (
    _scope(
        "en andens beslutning",
        # "Aflastningsfamilien har sagt, at de desværre stopper til sommer": the provider stops,
        # not the measure (not "… at de stopper din hjælp").
        rf"{_NOT_US}\b(har|have|has)\s+(sagt|fortalt|skrevet|meddelt|said|told (us|me)|written"
        r"|let (us|me) know)\s*,?\s*((at|that)\s+)?(de|han|hun|they|he|she)\s+"
        r"(desvaerre\s+|unfortunately\s+|nu\s+|now\s+)?(stopper|stops|quits?|holder op|slutter"
        r"|will stop|are stopping|is stopping)\b"
        r"(?!\s+(med\s+)?(din|dit|dine|jeres|hjaelpen|ydelsen|your|the)\b)",
        "sentence",
        "ophør eller nedsættelse",
    ),
    _scope(
        "borgerens egne ord",
        # "Du har spurgt, om du 'får afslag, fordi du har bil'": the citizen's question repeated.
        r"\b(du har|i har|you have|you've)\s+(spurgt|asked)\b",
        "before",
    ),
    _scope(
        "en afgørelse omtalt",
        # A complaints notice for a decision already sent by letter: "… within 4 weeks of
        # getting the letter", "… efter du fik brevet" (not "dette brev": the notice itself).
        r"\b((the|your)\s+letter|brevet|(dit|jeres)\s+brev|(цього|вашого)\s+листа"
        r"|(ال)?(رساله|خطاب)\s+(التي|اللي)\s+(وصلتك|استلمتها))\b",
        "after",
        "klagevejledning med frist",
    ),
    _scope(
        "en processuel rettighed",
        # "يحق لك أن يحضر ابنك معك": the right to bring someone along, not an entitlement.
        r"^\s*(ان|بان)\s+(يحضر|تحضر|ياتي|تاتي|يرافق|ترافق|يكون|تكون)\w*",
        "after",
        "ret til",
    ),
    _scope(
        "betingelse eller advarsel",
        # "Uden dem kan vi ikke bevilge noget": what is missing, not a refusal.
        r"^\s*(uden|without|без|بدون)\w*\b(?!\s+(for|at)\b)",
        "before",
        *SAID_NO,
    ),
    _scope(
        "betingelse eller advarsel",
        # "Enkeltydelse gives kun, hvis udgiften er uforudset": a rule and its condition.
        r"\b(kun|only)\s*,?\s+(hvis|nar|safremt|if|when)\b",
        "within",
        *SAID_NO,
    ),
    _scope(
        "ikke afgjort endnu",
        # "Ingen ting er besluttet", "ikke noget er besluttet endnu".
        r"\b(ingen ting|ikke noget|intet som helst|nothing at all)\s+(er|is|has been)\s+"
        r"(endnu\s+|yet\s+)?(besluttet|decided)\b",
        "sentence",
        "besluttet",
        "decided",
    ),
)

# Moved, postponed: a meeting or a time changed.
_MOVED = (
    r"(flyttet|flyttes|rykket|rykkes|udsat|moved|rescheduled|postponed|перенесен\w*|перенесли"
    r"|перенесено)"
)
_SLOT = rf"({MEETING}|moder|tid|tiden|tidspunkt\w*|besog\w*|appointment|visit|прийом\w*|\w*موعد)"
ARRANGEMENTS: tuple[Scope, ...] = (
    FARE_TO_MEETING,
    _scope(
        "en tid flyttet",
        # "Mødet er flyttet til torsdag", "your appointment has been moved to 10",
        # "تم نقل الاجتماع إلى الخميس".
        rf"\b{_SLOT}\b[^.;]{{0,30}}?\b{_MOVED}\b|\b{_MOVED}\s+(\S+\s+){{0,2}}?{_SLOT}\b"
        rf"|\b(تم\s+)?(نقل|تاجيل|تغيير)\s+(موعد\s+)?(ال)?(اجتماع|موعد|مقابله)\w*",
        "sentence",
    ),
    _scope(
        "et skema godkendt",
        # "Skemaet er tjekket og godkendt", "your form has been approved", "Анкету схвалено",
        # "تمت الموافقة على الاستمارة".
        rf"\b{FORM}\b[^.;]{{0,30}}?\b(godkendt|approved|схвален\w*|погоджен\w*)\b"
        rf"|\b(الموافقه|موافقه)\s+علي\s+{FORM}",
        "sentence",
    ),
    _scope(
        "en kollega dækker",
        # "Jeg dækker for Mette i dag", "I'm covering for Mette this week": who answers, not
        # what is paid ("vi dækker udgiften" names no colleague).
        r"\b(jeg|i|im|i am|i'm)\s+(daekker|covering|cover)\s+for\s+\w+"
        r"(\s+(i dag|i morgen|i denne uge|denne uge|today|tomorrow|this week|mens|while))?",
        "sentence",
    ),
)
