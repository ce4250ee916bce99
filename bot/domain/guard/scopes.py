"""What makes an afgørelse's words not one: the scopes of the Danish and English lexicon.

A *scope* is a phrase that turns a cue of :mod:`bot.domain.guard.lexicon` in the
same sentence into something else: a question, a condition or a warning, a
possibility, a decision still to come, one made before and only mentioned, the
citizen's own words or question repeated, someone else's decision (or approval of a
test), a practical arrangement (a ticket to a meeting, a deadline moved, a form checked,
help with an application), or a procedural right (aktindsigt, bisidder, tolk, a lawyer
the municipality pays) rather than an entitlement.
A scope names the cues it governs (``only``) or never governs (``skip``) by the
cues' names, so the Ukrainian and Arabic cues of :mod:`bot.domain.guard.lexicon_uk_ar`
of the same name are governed too. Written against the folded normal form of
:mod:`bot.domain.guard.text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.guard.lexicon import MONTH_WORDS, THIRD


@dataclass(frozen=True, slots=True)
class Scope:
    """Words that turn a cue into no decision, and where they must stand.

    ``where``: "sentence" (anywhere in the sentence), "before" (before the
    cue in its sentence), "after" (right after the cue: what the right or
    measure is), "near" (within a few words before the cue), "within" (inside
    the words the cue matched: "допомога не припиняється").
    """

    name: str
    pattern: re.Pattern[str]
    where: str
    only: frozenset[str] = frozenset()  # cue names it applies to; empty: all
    skip: frozenset[str] = frozenset()  # cue names it never applies to


def _scope(name: str, pattern: str, where: str, *only: str, skip: tuple[str, ...] = ()) -> Scope:
    return Scope(name, re.compile(pattern), where, frozenset(only), frozenset(skip))


# Cues that say "no" to an expense or a benefit ("du får ikke", "kommunen dækker ikke"):
# "not yet", "not today", "not from me" and "so your brother says" set them aside.
SAID_NO = (
    "giver ikke",
    "dækker eller betaler",
    "du får ikke",
    "ikke udbetalt",
    "kan ikke få",
    "kan ikke hjælpe med",
)

SCOPES: tuple[Scope, ...] = (
    _scope("spørgsmål", r"\?", "sentence"),
    _scope(
        "betingelse eller advarsel",
        r"\b(hvis|safremt|i fald|medmindre|ellers|if|unless|in case|otherwise|or else"
        r"|nar(?! vi\b))\b",
        "before",
        skip=("klagevejledning med frist",),
    ),
    _scope(
        "betingelse eller advarsel",
        # Right after the outcome, in the same clause: "din ydelse stopper, hvis du …".
        r"^[^.,;]{0,40},?\s*(hvis|safremt|medmindre|nar|if|unless|when)\b",
        "after",
        skip=("klagevejledning med frist",),
    ),
    _scope(
        "mulighed",
        r"\b(kan|kunne|vil kunne|risikerer|risiko|maske|muligvis|evt|eventuelt|maybe|might|could"
        r"|may|would|risk|ikke sikkert|usikkert|not sure|not certain|uncertain|chance|chancer"
        r"|haber|forhabentlig|hope|hopefully|at blive|to be)\b"
        r"(?!\s+(desvaerre\s+)?(ikke|not)\b)(?!n't)"
        # "Jeg kan bekræfte, at kommunen har bevilget …": a telling, not a possibility.
        r"(?!\s+((jeg|vi|nu|hermed|godt)\s+){0,2}(bekraefte|fortaelle|oplyse|meddele|confirm"
        r"|tell you)\b)",
        "near",
    ),
    _scope(
        "ikke afgjort endnu",
        r"\b(endnu ikke|ikke endnu|not yet|ikke truffet|ingen afgorelse|ikke besluttet"
        r"|no decision|inden vi|for vi|before we|nar vi|when we|vurdere om|vurderer om"
        r"|undersoge om|undersoger om|afgore om|tage stilling til|om du har|om du er|om du kan"
        r"|om i har|whether|vil fa en afgorelse|kommer til at|forventer|expect"
        r"|om (kommunen|vi|jobcentret) |ikke (faet|modtaget) (en |din )?afgorelse)\b",
        "sentence",
    ),
    _scope(
        "en tidligere afgørelse nævnt",
        rf"\b((?<!for )sidste ar|sidste maned|tidligere|dengang|i sin tid|i fjor|ifjor"
        # Not "… tilbage i fripladstilskud for sidste år": the period a repayment is for.
        rf"|fra sidst|(?<!for )last year|last month|previously|earlier|back in"
        # "…, som du fik for meget": the reason for a repayment, not a past decision.
        r"|da du fik(?! for meget)|som du fik(?! for meget)"
        rf"|(du|i) fik (?!for meget).{{0,20}}\b(i|sidst i|tilbage i) {MONTH_WORDS}|(?<!ved )siden"
        r"|(du|i) fik(?! for meget)"
        rf"|blev (stoppet|standset|nedsat|sat ned) i {MONTH_WORDS}"
        rf"|for \w+ (ar|maneder|uger) siden)\b",
        "sentence",
        skip=("fastholdt eller ændret",),  # "Den tidligere afgørelse fastholdes"
    ),
    _scope(
        "borgerens egne ord",
        r"\b(du skriver|du siger|du naevner|(?<!fordi )(?<!da )du spurgte|du sporger|du fortalte"
        r"|du fortaeller|du tror|du mener|you wrote|you say|you said|you asked|you mentioned"
        r"|you think)\b"
        # Reported: "du sagde i dag, at du føler, du har fået afslag" (not "da du sagde nej til
        # jobbet, stopper …": the citizen's act, the reason for an outcome).
        r"|\bdu\s+(sagde|skrev)\b[^.,:]{0,25}?,?\s+(at|om)\b|\b(du|you)\s+(foler|folte|oplever"
        r"|oplevede|feel|felt)\b",
        "before",
    ),
    _scope(
        "påmindelse om klage",
        r"\b(husk|remember|(?<!efter )din klage|(?<!after )your complaint)\b",
        "before",
        skip=("fastholdt eller ændret",),
    ),
    _scope(
        "generel vejledning",
        r"\b(man|generelt|som regel|normalt|typisk|reglerne|loven|in general|usually|normally"
        r"|generally|people who|borgere der|borgere som|familier der|nogle|mange|andre|den eneste"
        r"|many|other people|alle|enhver|everyone|anyone)\b",
        "before",
    ),
    _scope(
        "en andens beslutning",
        r"\b(du|i|jeg|you|i've|skolen|school|the school|lagen|laegen|the doctor|udlejer"
        r"|a-kassen|psykologen)"
        r"\s+(har\s+|has\s+|have\s+)?"
        r"(selv\s+|yourself\s+)?(besluttet|decided|valgt|chosen)\b"
        r"|\b(har|have) (du|i) besluttet",
        "sentence",
        "besluttet",
        "decided",
        "valgt",
    ),
    _scope(
        "en anden myndigheds afgørelse",
        r"\b(af|fra|by|from|det er) (udbetaling danmark|udk|ankestyrelsen|familieretshuset|skat"
        r"|\w*styrelsen|pensionskontoret|the appeals board)\b",
        "sentence",
    ),
    _scope(
        "nægtet",
        # "ikke længere" is a stop ("du skal ikke længere have …, ordningen stopper").
        r"\b(ikke|aldrig|intet|ingen|not|don't|dont|never|no)\b(?! laengere| longer)[^.]{0,25}$",
        "near",
        "tilbagebetaling",
        "ophør eller nedsættelse",
        "sanktion",
    ),
    _scope(
        "nægtet",
        r"^\s*(ikke|not)\b",
        "after",
        "ophør eller nedsættelse",
    ),
    _scope(
        "en processuel rettighed",
        r"^\s*at\s+(?!fa\s+(daekket|udbetalt|bevilget|tilskud|stotte|hjaelp\s+til\s+(?!at)))"
        r"|^\s*(withdraw|ask|say|apply|be heard|get help to|attend|be present|be there|speak"
        r"|take part|participate|comment|be accompanied)\b",
        "after",
        "ret til",
        "no right to",
    ),
    _scope(
        "en processuel rettighed",
        r"^\s*(at\s+)?(klage|aktindsigt|indsigt|en bisidder|bisidder|en tolk|tolk|partshoring"
        r"|se|fa (en |dine )?(tolk|bisidder|kopi|aktindsigt|indsigt|papirer|oplysninger)"
        r"|udtale|blive hort|sige|tage|have"
        r"|vaere|en partsreprae?sentant|rettelse|sletning|complain|appeal|see|an interpreter"
        r"|access|bring|(en\s+)?(gratis\s+)?advokat\w*|(a\s+)?(free\s+)?(lawyer|legal)"
        r"|gratis|free)\b",
        "after",
        "ret til",
        "no right to",
    ),
    _scope(
        "praktisk aftale",
        r"\b(mode|modet|moder|tid|tiden|aftale|aftalen|ringe|opkald|mail|\w*besog|flytte|rykke"
        r"|holde|brev\w*|posten|i stedet|meeting|appointment|call|instead)\b"
        r"|\b(move|moving|moved|reschedul\w*|postpon\w*)\s+(\S+\s+){0,2}?(visit|meeting"
        r"|appointment|call|session|interview)s?\b",
        "sentence",
        "besluttet",
        "decided",
        "afvist",
        "refusal",
        "valgt",
        "ja eller nej",
    ),
    _scope(
        "en medarbejder der stopper",
        r"\b(kontaktperson\w*|mentor\w*|stottelaerer\w*)\s+(stopper|holder op)\s+(hos|i|her|som)\b"
        r"|\b(is leaving|leaves)\b",
        "sentence",
        "ophør eller nedsættelse",
    ),
    _scope(
        "citat fra et brev",
        r"\b(i brevet star der|der star i brevet|brevet siger|the letter says"
        r"|it says in the letter)\b|\b(brevet|the letter)\b[^.;]{0,50}\b(siger|says)\b",
        "before",
    ),
    _scope(
        "en gældende bevilling",
        r"^\s*(lober|udlober|gaelder|runs|lasts)\b",
        "after",
        "bevilling",
    ),
    _scope(
        "ikke en ydelse",
        r"\bnedsat (funktionsevne|arbejdsevne|horelse|syn|tid|hastighed)\b",
        "sentence",
        "ophør eller nedsættelse",
    ),
    _scope(
        "en afgørelse omtalt",
        r"(?<!lukket din )(?<!lukket jeres )(?<!afsluttet din )(?<!afsluttet jeres )"
        r"\b(afgorelse|afgorelsen|decision|brev|brevet|letter|sag|sagen|klage|klagen|complaint)"
        # Not a heading: "Din sag om tabt arbejdsfortjeneste: Du får dækket 20 timer om ugen".
        r"\s+(om|on|about|vedr\w*|angaende|over)\b"
        # "Din sag om særlig støtte er afsluttet, og du modtager ikke længere …": the case done.
        r"(?![^:]*\b(er|blev)\s+(nu\s+)?(afsluttet|faerdigbehandlet|lukket|afgjort)\b)[^:]*$",
        "before",
        # "Vil du klage over afgørelsen, skal klagen …"; "din klage over afslaget: vi fastholder …"
        skip=("klagevejledning med frist", "fastholdt eller ændret"),
    ),
    _scope(
        "en afgørelse omtalt",
        r"\b(tale|snakke|drofte|kigge pa|se pa|sporgsmal|sporgsmalet|bekymre dig)"
        r"\s+om\s+(\w+\s+)?$",
        "near",
        "tilbagebetaling",
        "afslag",
        "bevilling",
        "sanktion",
    ),
    _scope(
        "en gældende bevilling",
        r"\b(din|dit|jeres|your)\s+$",
        "near",
        "bevilling",
    ),
    _scope(
        "ikke afgjort endnu",
        r"\benten\b.*\beller\b|\bbevilling eller (et )?afslag\b|\bafslag eller (en )?bevilling\b"
        r"|\b(du|i) modtager\b",
        "sentence",
        "afslag",
        "bevilling",
    ),
    _scope(
        "nægtet",
        r"\b(ikke|aldrig|intet|ingen)\b[^.,]{0,25}$",
        "near",
        "afslag",
        "træk i ydelsen",
    ),
    _scope(
        "nægtet",
        r"\b(ikke|aldrig|not|never)\b",
        "within",
        "ophør eller nedsættelse",
    ),
    _scope(
        "en andens afgørelse",
        r"(\bvi\s+(har\s+)?(faet|fik)|\b(skolen|lagen|udlejer\w*|banken|\w*forsikring\w*|a-kassen"
        r"|\w*styrelsen|hospitalet|regionen)\s+(har\s+)?(faet|fik|givet|gav))\s+(\w+\s+)?$",
        "near",
        "afslag",
    ),
    _scope(
        "en andens afgørelse",
        r"^\s*fra\s+(jeres|din|dit|deres|forsikring\w*|banken|skolen|a-kassen|udlejer\w*)\b",
        "after",
        "afslag",
    ),
    # Fourth round (train-r4-*): a partshøring ("vi overvejer / påtænker at standse …"),
    # a grant mentioned with a practical reminder ("du har fået bevilget kørsel – husk at
    # bestille den"), "over SMS", and how hard it is ("ikke nemt at få bevilget").
    _scope(
        "ikke afgjort endnu",
        r"\b(overvejer|overveje|pataenker|partshoring|considering|we consider)\b",
        "sentence",
    ),
    _scope(
        "en bevilling nævnt",
        r"\b(husk|remember|не забудьте|لا تنس)\b",
        "after",
        "bevilling",
    ),
    _scope("praktisk aftale", r"\b(over sms|pa sms|per sms|by text)\b", "sentence", "bevilling"),
    _scope(
        "mulighed",
        r"\b(nemt|let|svaert|problem|umuligt|easy|hard) at( fa)?\b",
        "near",
    ),
    _scope(
        "en vurdering, ikke en afgørelse",
        r"\b(jeg tror|vi tror|formentlig|sandsynligvis|nok|vist|jeg mener|jeg vurderer)\b",
        "near",
    ),
    _scope(
        "en anden myndigheds afgørelse",
        r"\b(der|som) (bestemmer|afgor|beslutter|styrer)\b",
        "sentence",
    ),
    _scope(
        "betingelse eller advarsel",
        # A condition with the verb first: "Bliver din ydelse nedsat, ringer jeg til dig".
        r"^(bliver|far|skulle|stopper|kommer)\b[^,]{0,60},\s*(ringer|kontakter|skriver|sender"
        r"|hjaelper|sa)\b",
        "sentence",
    ),
    _scope(
        "generel vejledning",
        r"\b(kun|sjaeldent|aldrig|som sidste udvej|altid)\b",
        "sentence",
        "sanktion",
    ),
    _scope(
        "mulighed",
        r"\b(kan|kunne|vil kunne|risikerer|maske|muligvis)\b(?!\s+(desvaerre\s+)?ikke\b)",
        "within",
        "ophør eller nedsættelse",
    ),
    _scope(
        "en afgørelse omtalt",
        r"\b(ansogning\w*|application)\s+(om|for|on)\s+$",
        "near",
        "bevilling",
        "tilbagebetaling",
    ),
    _scope(
        "betingelse eller advarsel",
        # For a complaints notice "hvis du er uenig" is its own frame, not a condition on it.
        r"\b(hvis|safremt|if|medmindre|unless)\b(?!\s+(du|i|you)\s+(er\s+uenig\w*|ikke\s+er\s+enig"
        r"|er\s+utilfreds|disagree|do not agree|don't agree|vil\s+klage|want to))",
        "sentence",
        "klagevejledning med frist",
    ),
    _scope(
        "en forsinkelse eller en praktisk ting",
        # "Du får ikke din boligstøtte udbetalt før den 3.", "vi kan ikke hjælpe med det i dag":
        # not yet, not now, not by me, is not a refusal.
        r"^[^.;]{0,45}?\b(for\s+((den|d\.)\s*\d|\d|du|i|vi|vores|jeg|efter|naeste"
        r"|\w+en\s+(har|er)|(de|han|hun)\s+(har|er|kommer|ringer|svarer|ved)"
        r"|mandag|tirsdag|onsdag|torsdag|fredag|jul|pask\w*|sommer\w*)|forst|endnu|med det samme"
        r"|lige nu|i dag|i morgen|i weekenden|pa (mandag|tirsdag|onsdag|torsdag|fredag)|naeste uge"
        r"|fra mig|af mig|uden (en |at )|before|until|today|tomorrow|right now|yet)\b",
        "after",
        *SAID_NO,
    ),
    _scope(
        "en praktisk ting",
        # "Jobcentret giver ikke svar på kurset": an answer, a time or a message, not money.
        r"\b(svar|besked|tid|tider|brev|opkald|answer|reply)\b",
        "within",
        *SAID_NO,
    ),
    _scope(
        "en aftale genkaldt",
        # "Vi betaler transporten derud som aftalt": a payment already agreed, recalled with
        # the practical news (not "som aftalt pr. telefon bekræfter jeg, at kommunen dækker").
        r"^[^.;]{0,40}?\b(som (aftalt|lovet)|as (agreed|promised|discussed))\b",
        "after",
        "dækker eller betaler",
        "vi betaler",
    ),
    _scope(
        "en praktisk ting",
        # "Kommunen betaler ikke dine regninger direkte": how it is paid, not whether.
        r"^\s*(direkte|kontant)\b",
        "after",
        *SAID_NO,
    ),
    _scope(
        "en praktisk ting",
        r"\b(meeting|modet|i dag|today)\b",
        "sentence",
        "kan ikke få",
        "dækker eller betaler",
    ),
    _scope(
        "borgerens egne ord",
        r"^[^.;]{0,60}?,\s*(siger|skriver|mener)\s+(du|din|dit|han|hun|de)\b",
        "after",
        *SAID_NO,
    ),
    _scope(
        "generel vejledning",
        r"\b(normalt|generelt|typisk|som regel|nogle gange|af og til|sommetider|usually|normally"
        r"|generally|sometimes)\b",
        "within",
    ),
    _scope(
        "en andens vurdering",
        r"\b(laegen|lagen|psykolog\w*|tandlaeg\w*|skolen|sygehuset|hospitalet|speciallaeg\w*"
        r"|the doctor)\s+(har\s+|has\s+)?(vurderet|assessed)\b",
        "sentence",
        "vurderet at",
    ),
    # Fifth round (other writers' texts): whose decision it is, a reminder, a consultation,
    # a grant mentioned as the background of a practical message.
    _scope(
        "en andens beslutning",
        # "Skolen / hospitalet / Skattestyrelsen / de har besluttet", "det er lægen der har
        # besluttet", "det har kommunalbestyrelsen besluttet" (a policy for everyone); not the
        # municipality's own units ("familieafdelingen", "visitationsudvalget", "teamet").
        rf"(^|[\s,(])(de|han|hun|{THIRD}|(din|dit|dine|jeres|hans|hendes|deres)\s+[\w-]+)"
        r"\s+((der|som)\s+)?(har|er)\s+(\w+\s+)?(besluttet|bestemt)\b"
        rf"|\bhar\s+{THIRD}\s+besluttet\b"
        r"|\bikke\s+(noget\s+)?(kommunen|os|vi|jobcentret)\s+((der|som)\s+)?(har\s+)?"
        r"(besluttet|bestemt)\b"
        r"|\b(they|he|she|(the|your|his|her|their)\s+(?!municipality|council|commune|kommune|job"
        r"|committee|team|department|family|children|visitation|case ?worker|home care)[\w-]+"
        r"(?!\s+(council|committee|team|department))(\s+[\w-]+)?(\s+(at|of|in)\s+the\s+[\w-]+)?)"
        r"\s+(has|have)\s+(now\s+)?decided\b",
        "sentence",
        "besluttet",
        "decided",
    ),
    _scope(
        "en beslutning for alle",
        r"\balle\s+(borgere|beboere|brugere|elever|familier|foraeldre|kunder)\b"
        r"|\b(all|every)\s+(residents|citizens|families|users|pupils|parents)\b",
        "sentence",
        "besluttet",
        "decided",
    ),
    _scope(
        "ikke afgjort endnu",
        r"\b(intet|ingenting|nothing)\s+(er|is|has been)\s+(endnu\s+|yet\s+)?(besluttet|decided)\b"
        r"|\b(jeg|vi)\s+taenker\b|\bhore\s+(dig|jer|din|jeres|hvad)\b"
        r"|\b(kan|kunne|can|could|may|might)\s+(betyde|medfore|fore til|mean|lead to|result in)\b",
        "sentence",
    ),
    _scope(
        "en påmindelse",
        r"\b(pamindelse|paminnelse|reminder)\b",
        "before",
    ),
    _scope(
        "en bevilling nævnt",
        # "Det beløb, du allerede har fået bevilget", "den kørestol du har fået bevilget",
        # "the transport you have been granted": the grant is the background, not the news.
        r"\b(allerede|already)\s+(har\s+|have\s+|has\s+|er\s+|is\s+)?(faet|fik|bevilget"
        r"|been granted|granted|got|received)\b",
        "sentence",
    ),
    _scope(
        "en bevilling nævnt",
        r"\b(den|det|de)\s+([\w-]+\s+){1,2},?\s*((som|der)\s+)?(du|i)\s+(har\s+)?(faet\s+)?$"
        r"|\b(the|that)\s+([\w-]+\s+){1,2}((that|which)\s+)?$",
        "near",
        "bevilling",
        "entitled",
    ),
    _scope(
        "betingelse eller advarsel",
        # "… fra din bevilling skal bruges inden 31/12, ellers bortfalder de".
        r"\b(ellers|hvis|medmindre|otherwise|unless|if)\b",
        "within",
        "ophør eller nedsættelse",
    ),
    _scope(
        "generel vejledning",
        r"\b(the general rule|general rule|as a rule|hovedreglen|den generelle regel)\b",
        "sentence",
    ),
    _scope(
        "en anden myndigheds afgørelse",
        # "Familieretshuset har truffet afgørelse", "det er SU-styrelsen der har givet dig afslag".
        r"\b(udbetaling danmark|udk|ankestyrelsen|familieretshuset|skat|[\w-]*styrelsen"
        r"|pensionskontoret|a-kassen|the appeals board)\s+((der|som)\s+)?(har|er|has|have|is)\b",
        "sentence",
    ),
    _scope(
        "en praktisk ting",
        # "… skal betales d. 1": when, not what.
        r"\b(d\.|den)\s*\d+$",
        "within",
        *SAID_NO,
    ),
    _scope(
        "en bevilling nævnt",
        r"\b(den|det|de)\s+([\w-]+,?\s+){1,2}((som|der)\s+)?(vi|du|i|kommunen)\s+$",
        "near",
        "godkendt",
    ),
    _scope(
        "en bevilling nævnt",
        # "Boligen, som du blev visiteret til i januar, er ledig fra 1/7": a relative clause,
        # the grant is the background of the news.
        r"\b(som|der|that|which)\s+(du|i|you)\s+$",
        "near",
        "visiteret",
        "godkendt",
        "bevilling",
        "entitled",
    ),
    _scope(
        "en praktisk ting",
        r"\b(app|appen|apps|mitid|log ind|login|systemet)\b",
        "sentence",
        "godkendt",
        "ja eller nej",
    ),
    _scope(
        "ikke afgjort endnu",
        r"\b(foreslar at|jeg foreslar|vi foreslar|udkast|ikke endelig\w*|not final|draft)\b",
        "sentence",
    ),
)

# Seventh round (train-r7p-*: plain everyday texts): a helper the law pays for, the citizen's
# question reported, a test or exam passed, a ticket to a meeting, a deadline or a form, an
# application for a reduction. Each in the four languages where the kind applies.
HELPER = (
    r"(advokat\w*|tolk(en|e|ene)?|bisidder\w*|partsrepraesentant\w*|lawyer|interpreter|solicitor"
    r"|адвокат\w*|перекладач\w*|\w*محام\w*|\w*مترجم\w*)"
)
# A ticket, a fare or a lift to a meeting: what attending costs, not a benefit.
FARE = (
    r"(\w*billet\w*|\w*ticket\w*|taxa|taxi|bus|bussen|tog|toget|train|parkering\w*|parking"
    r"|transport\w*|korsel\w*|fares?|квит\w*|проїзд\w*|таксі|автобус\w*|потяг\w*|поїзд\w*"
    r"|\w*تذكر\w*|\w*تاكسي|\w*باص|\w*قطار|\w*مواصلات)"
)
MEETING = (
    # A meeting with the municipality (not a doctor's appointment: kørsel til behandling is one).
    r"(mode|modet|samtalen|meeting|interview|зустріч\w*|співбесід\w*|\w*اجتماع|\w*مقابله)"
)
# Things a caseworker checks or someone else passes: a form, a test, an exam.
FORM = (
    r"(skema\w*|blanket\w*|formular\w*|forms?|анкет\w*|бланк\w*|форм(а|у|и)|\w*استمار\w*"
    r"|\w*نموذج\w*)"
)
TEST = (
    r"(\w*prove[nr]?|\w*proverne|\w*eksamen\w*|\w*eksaminer\w*|(driving\s+|theory\s+)?(test|exam)s?"
    r"|іспит\w*|екзамен\w*|тест\w*|\w*امتحان\w*|\w*اختبار\w*)"
)
PAYS = ("dækker eller betaler", "vi betaler", "vi kan godt give", "du får en ydelse")
# "We'll cover your train ticket to the meeting", "vi betaler bussen til samtalen": one of the
# practical arrangements the model may not overrule either (:mod:`bot.domain.guard.scopes_r9`).
FARE_TO_MEETING = _scope(
    "en praktisk udgift til et møde",
    rf"\b{FARE}\b[^.;]{{0,40}}?\b(til|to|for|на|до|الي|لل|ل)\s*(\S+\s+){{0,3}}?{MEETING}\b"
    rf"|\b{MEETING}\b[^.;]{{0,20}}?\b(billet\w*|ticket\w*|fare|квит\w*|تذكر\w*)\b",
    "sentence",
    *PAYS,
)

SCOPES += (
    _scope(
        "en processuel rettighed",
        # "… en advokat med, som kommunen betaler efter reglerne": the law's helper paid for.
        rf"\b{HELPER}\b[^.;]{{0,25}}?,?\s*(som|der|that|which|who|який|яка|якого|якому"
        r"|الذي|اللي|التي)\s+$|(\w*محام\w*|\w*مترجم\w*)\s+$",
        "near",
        *PAYS,
    ),
    _scope(
        "en processuel rettighed",
        rf"^[^.;]{{0,20}}?\b{HELPER}\b",
        "after",
        *PAYS,
    ),
    _scope("en processuel rettighed", rf"\b{HELPER}\b", "within", *PAYS),
    _scope(
        "borgerens spørgsmål",
        # "Jeg har modtaget dit spørgsmål om, hvorvidt du kan få dækket transport".
        r"\b(hvorvidt|(sporgsmal\w*|question|enquiry|query)\s+(om,?\s+(om|hvorvidt)|about whether"
        r"|(on|of|about|as to) whether|whether|if))\b"
        r"|\b(питання|запит\w*|запитання)\s*,?\s*чи\b"
        r"|\b(سؤالك|سوالك|استفسارك)\s+(عن|حول|بخصوص)\s+(ما\s+)?(اذا|امكانيه)",
        "sentence",
    ),
    _scope(
        "en prøve eller eksamen",
        # "Du er blevet godkendt til køreprøven", "approved for the driving test": someone
        # else's approval of a test, not a benefit.
        rf"^\s*((til|for|to take|на|до|для|علي|في)\s+)?(the\s+|your\s+|din\s+|den\s+)?{TEST}\b",
        "after",
        "godkendt",
        "entitled",
        "bevilling",
        "approved or refused",
    ),
    _scope(
        "en prøve eller eksamen",
        rf"\b(til|for)\s+(the\s+|your\s+|din\s+|den\s+)?{TEST}$",
        "within",
        "godkendt",
        "entitled",
    ),
    FARE_TO_MEETING,
    _scope(
        "en frist forlænget",
        # "Строк, щоб надіслати документи, продовжено до 18/12": a deadline, not a grant.
        r"\b(строк\w*|термін\w*|дедлайн\w*|frist\w*|deadline\w*|\w*مهله|\w*الموعد النهائي)\b"
        r"(?![^.;]*\b(допомог\w*|виплат\w*|пенсі\w*|підтримк\w*|\w*ydelse\w*|\w*hjaelp\w*"
        r"|\w*stotte\w*|\w*tilskud\w*|\w*pension\w*|\w*مساعد\w*|\w*اعان\w*|benefit\w*))[^.;]*$",
        "before",
        "bevilling",
        "forlænget",
    ),
    _scope(
        "et skema godkendt",
        # "Анкету перевірено і схвалено", "تمت الموافقة على الاستمارة": a form checked.
        # The form is the subject: "Анкету перевірено і схвалено" (not "tak for skemaet, vi har
        # bevilget …").
        rf"\b{FORM}(\s+(?!(vi|we|ми|kommunen|комуна|\w*بلديه)\b)[^\s,;.]+){{0,3}}\s+$",
        "near",
        "bevilling",
        "godkendt",
        "approved or refused",
    ),
    _scope(
        "et skema godkendt",
        rf"^\s*((علي|на)\s+)?(вашу\s+|ваш\s+|your\s+|the\s+)?{FORM}\b",
        "after",
        "bevilling",
        "godkendt",
        "approved or refused",
    ),
    _scope(
        "en ansøgning om",
        # "Vi hjælper dig med ansøgningen om nedsat …", "مساعدتك في تعبئة طلب تخفيض …": help
        # with an application for a reduction is not one.
        r"\b(ansogning\w*|application|заяв(а|у|и|ою|і)|(ال|ب|ل|و)?طلب(ك|كم)?)\s+((om|for|on|на|про|عن)\s+)?"
        r"((a|an|en|et)\s+)?$",
        "near",
        "ophør eller nedsættelse",
    ),
    _scope(
        "en ansøgning om",
        r"\b(ansogning\w*|application|заяв(а|у|и|ою|і)|(ال|ب|ل|و)?طلب(ك|كم)?)\s+((om|for|on|на|про|عن)\s+)?"
        r"((a|an|en|et)\s+)?\S+$",
        "within",
        "ophør eller nedsættelse",
    ),
)

# Eighth round (train-r8-*, probe3-*): a decision referred to and not stated ("hvad vi har
# besluttet", "intet er besluttet endnu", "det betyder ikke, at den er bevilget"), someone
# else's call ("the psychologist at PPR has decided"), a sanction to look at, a time moved,
# a complaints notice for a decision already sent, general practice after the cue.
SCOPES += (
    _scope(
        "en afgørelse omtalt",
        # "der står hvad vi har besluttet", "what we decided": the decision is elsewhere.
        r"\b(hvad|hvilke[nt]?|what|which)\s+((vi|kommunen|jeg|we|i|they|de)\s+)?$",
        "near",
        "besluttet",
        "decided",
        "bevilling",
        "godkendt",
    ),
    _scope(
        "ikke afgjort endnu",
        # "der er intet besluttet endnu", "det er ikke noget, der er besluttet".
        r"\b(ikke|intet|ingenting|endnu|nothing|not|yet)\b",
        "within",
        "besluttet",
        "decided",
    ),
    _scope(
        "ikke afgjort endnu",
        r"\b(ikke|intet|ingenting|nothing|not)\b(\s+\w+)?,?\s+(der|som|that|which)\s+$",
        "near",
        "besluttet",
        "decided",
    ),
    _scope(
        "ikke afgjort endnu",
        # "… at den er bevilget endnu", "… decided yet"; not "endnu 10 timer" (more of them).
        r"^\s*(endnu|yet)\b(?!\s+(\d|en|et|flere|mere|one|more)\b)",
        "after",
        "bevilling",
        "godkendt",
        "besluttet",
        "decided",
    ),
    _scope(
        "ikke afgjort endnu",
        # "Рішення – після візиту", "Afgørelse: kommer efter mødet": a heading for one to come.
        r"^\s*[:\-]?\s*(efter|after|senere|later|folger|follows|kommer|comes|після|пізніше"
        r"|згодом|буде|надійде|بعد|لاحقا|سيصل|سيكون)\b(?!\s*(§|paragraf))",
        "after",
        "overskrift",
    ),
    _scope(
        "ikke afgjort endnu",
        r"\b(betyder|betod)\s+(\w+\s+)?ikke\b|\b(does not|doesn't|did not|didn't)\s+mean\b"
        r"|\bне означає\b|\bلا يعني\b",
        "before",
    ),
    _scope(
        "en andens beslutning",
        # "the psychologist at PPR has decided …", "that's their call, not mine".
        r"\b(the|your|his|her|their)\s+(?!municipality|council|commune|kommune|job|committee"
        r"|team|department|family|visitation|case ?worker)[\w-]+\s+(at|of|in|from)\s+"
        r"(the\s+)?[\w-]+\s+(has|have)\s+(now\s+)?decided\b"
        r"|\b(their|his|her|the doctor's|the school's) (call|decision)\b",
        "sentence",
        "besluttet",
        "decided",
    ),
    _scope(
        "en afgørelse omtalt",
        # "så skal vi kigge på en sanktion", "we'd have to look at a sanction": one to come.
        r"\b(kigge|se|tale|snakke|look|talk|think)\s+(pa|om|at|about)\s+(\w+\s+)?$",
        "near",
        "sanktion",
        "tilbagebetaling",
        "ophør eller nedsættelse",
    ),
    _scope(
        "en praktisk ting",
        # "fra mandag får du en ny kontaktperson-tid hver uge": a time, not help.
        r"\b(tid|tider|tidspunkt\w*|time slot|appointment|час|موعد)\b",
        "within",
        "du får fra en dato",
        "du får med et omfang",
        "der kommer hjælp",
    ),
    _scope(
        "en afgørelse omtalt",
        # A complaints notice for a decision already sent: "hvis du er uenig i afgørelsen om
        # aflastning", "the wheelchair decision you got last week".
        r"\b(uenig|utilfreds)\s+i\s+(afgorelsen|afslaget|beslutningen)\b"
        r"|\b(disagree|are unhappy|not happy)\s+with\s+(the|your)\s+([\w-]+\s+){0,2}"
        r"(decision|refusal)\b|\b(не згодні|не погоджуєтеся)\s+з\s+рішенням\b"
        r"|\b(غير موافق|غير راض\w*|لم توافق)\w*\s+علي\s+(ال)?قرار\b",
        "before",
        "klagevejledning med frist",
    ),
    _scope(
        "generel vejledning",
        r"^\s*(normalt|generelt|typisk|som regel|sjaeldent|sjaelden|usually|normally|generally"
        r"|rarely|зазвичай|як правило|عاده|عموما|غالبا)\b",
        "after",
    ),
)

SCOPES += (
    _scope(
        "en praktisk udgift i dag",
        # "كما اتفقنا، سندفع ثمن التاكسي إلى المستشفى اليوم": a ride paid today, not a grant.
        rf"\b{FARE}\b[^.;]*\b(i dag|i morgen|today|tomorrow|اليوم|غدا|сьогодні|завтра)\b"
        rf"|(اليوم|غدا)[^.;]*{FARE}",
        "sentence",
        *PAYS,
    ),
)

SCOPES += (
    _scope(
        "et skema godkendt",
        # "your timesheet has been approved", "dit skema er godkendt": a form or a test, not help.
        rf"\b({FORM}|{TEST}|{HELPER}|timesheet|timeseddel\w*|invoice|faktura\w*)\b",
        "within",
        "godkendt",
    ),
    _scope(
        "en ydelse som sædvanlig",
        # "… går ind på din konto som sædvanlig", "is late this month": a payment's timing.
        r"\b(som (saedvanlig|normalt|altid|vanligt)|as (usual|always|normal)|forsinket|delayed"
        r"|як завжди|як зазвичай|із затримкою|كالمعتاد|كالعاده|متاخر\w*)\b",
        "sentence",
        "du får en ydelse",
    ),
)

SCOPES += (
    _scope(
        "praktisk aftale",
        # "I have approved the new meeting time", "jeg har godkendt, at mødet flyttes".
        r"^\s*(,?\s*(at|that)\s+)?(\S+\s+){0,3}?(nye?\s+|new\s+)?(mode\w*|tid|tiden|tidspunkt\w*"
        r"|meeting|appointment|time|date|dato\w*|agenda|dagsorden\w*|referat\w*|minutes)\b",
        "after",
        "godkendt",
    ),
)

SCOPES += (
    _scope(
        "ikke afgjort endnu",
        # "Din ydelse kører videre uændret, mens vi behandler sagen": until a decision is made.
        r"\b(mens|indtil|until|while)\s+(vi|kommunen|we|the municipality)\s+(\S+\s+){0,2}?"
        r"(behandler|vurderer|undersoger|har truffet|traeffer|look|looks|are looking|assess\w*"
        r"|decide\w*|process\w*|review\w*)\b",
        "sentence",
    ),
)

SCOPES += (
    _scope(
        "praktisk aftale",
        # "Mødet i morgen bliver ikke til noget", "the trip won't happen": a plan, not help.
        r"\b(mode\w*|tid|tiden|aftale\w*|\w*besog\w*|tur|turen|udflugt\w*|ferie\w*|meeting|appointment"
        r"|visit|trip|зустріч\w*|візит\w*|поїздк\w*|\w*اجتماع|\w*موعد|\w*زياره|\w*رحله)\b",
        "near",
        "ikke til noget",
    ),
    _scope(
        "en praktisk ting",
        # "Hjemmehjælpen ændres fra næste uge, så de kommer kl 10": when, not how much.
        r"^[^.]{0,60}?\b(kl\.?\s*\d|klokken|tidspunkt\w*"
        r"|om (morgenen|eftermiddagen|aftenen|formiddagen)"
        r"|i stedet for (mandag|tirsdag|onsdag|torsdag|fredag|lordag|sondag|kl)"
        r"|at \d+(:\d+)?\s*(am|pm)?\b"
        r"|in the (morning|afternoon|evening))",
        "after",
        "ophør eller nedsættelse",
    ),
)

SCOPES += (
    _scope(
        "praktisk aftale",
        # "Your request to move the meeting has been approved": a time, not help.
        r"\b(meeting|appointment|visit|time|date|mode\w*|tid|tiden|besog\w*|flytte|move|moving"
        r"|reschedul\w*|postpon\w*|udsaet\w*)\b",
        "within",
        "godkendt",
    ),
)
