"""What an afgørelse sounds like: the cues of the Danish and English lexicon.

Written against the folded normal form of :mod:`bot.domain.guard.text`
(æ→ae, ø→o, å→a). A *cue* is a phrase that states an outcome of the case
(afslag, bevilling, tilkendelse, ophør, nedsættelse, tilbagebetalingskrav,
sanktion, "du har (ikke) ret til …", "vi har besluttet …", an "Afgørelse:"
heading, a § with a right of complaint). What turns such words into no decision
(a question, a condition, a decision still to come …) is a *scope*, in
:mod:`bot.domain.guard.scopes`.

The bare word "afgørelse" (and the definite forms: "afslaget", "afgørelsen",
"bevillingen") is never a cue by itself: "du får en afgørelse", "afgørelsen
kommer med Digital Post" and "husk at klage over afslaget" speak *about* a
decision, they do not make one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Benefits, services and measures a decision is about (folded, stems).
BENEFIT = (
    r"(\w*ydelse\w*|\w*hjaelp\w*|\w*stotte\w*|\w*tilskud\w*|\w*dagpenge\w*|\w*pension\w*"
    r"|boligsikring\w*|ressourceforlob\w*|fleksjob\w*|revalidering\w*|aflastning\w*"
    r"|foranstaltning\w*|anbringelse\w*|kontaktperson\w*|ledsag\w*|merudgift\w*"
    r"|arbejdsfortjeneste\w*|hjaelpemidl?\w*|friplads\w*|su|bevilling\w*|udbetaling\w*"
    r"|madservice|\w*vederlag\w*|\w+tillaeg\w*|tillaegget"
    r"|benefit\w*|allowance\w*|support|payments?|pension\w*|grant|assistance|respite"
    r"|home (care|help)|personal care)"
)
STOPS = (
    r"(stopper|stoppes|stoppet|stoppe|standse|standses|standset|nedsaette|ophorer|ophore|ophort"
    r"|bortfalder|falder bort"
    r"|nedsaettes|nedsaetter|nedsat|sat ned|reduceres|reduceret|saettes ned|inddrages|inddraget"
    r"|will stop|will end|stops|ends|is stopped|be stopped|reduced|cut|terminated|withdrawn)"
)

# What a caseworker's "giver/dækker/betaler (ikke)" is about: a benefit, or an expense
# the municipality pays or not (not a meeting, an answer or a letter).
EXPENSE = (
    rf"({BENEFIT}|udgift\w*|\w*udgifter\w*|\w*regning\w*|depositum|indskud|husleje\w*"
    r"|flytning\w*|medicin\w*|briller|\w*behandling\w*|tandl\w*|egenbetaling\w*|kursus|kurset"
    r"|penge|pengene|taxa|korsel\w*|transport\w*|gaeld\w*|\w*rejse\w*|psykolog\w*|seng\w*"
    r"|\w*mobler|konfirmation\w*|privat\w*|efterskole\w*|betaling\w*|\d+"
    r"|costs?|bills?|deposit|rent|glasses|medicine|move|help|grant|dental|treatment"
    r"|\w*expenses?|school"
    # Aids (hjælpemidler) the municipality pays for or not.
    r"|\w*lift\w*|\w*korestol\w*|rollator\w*|badestol\w*|handicapbil\w*|\w*sko|hoereapparat\w*"
    r"|wheelchair|\w*chair|grab rails?|walker|hearing aids?)"
)
# Help with the paperwork, not with an expense: "vi kan godt hjælpe dig med ansøgningen om …".
NOT_PAPERS = (
    r"(?!(at|ansogning\w*|skema\w*|blanket\w*|papir\w*|formular\w*|application|forms?"
    r"|paperwork)\b)"
)
# Who decides for the municipality, as a caseworker writes it.
AUTHORITY = (
    r"(kommunen|vi|jobcentret|familieafdelingen|borgerservice|ydelsesservice|\w*afdelingen"
    r"|we|the municipality|the council|the job ?centre)"
)
# A complaints deadline: "inden 4 uger", "senest fire uger", "within 4 weeks".
DEADLINE = (
    r"\b(inden|senest|inden for|indenfor|within)\s+(\d+|to|tre|fire|seks|otte|two|four|six)"
    r"\s+(uger|ugers|weeks?|maneder|months?)\b"
)
MONTH_WORDS = (
    r"(januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december)"
)


# Who else decides, as a subject: a definite noun ("skolen", "hospitalet", "byrådet") that is
# not one of the municipality's own units.
OWN_UNIT = (
    r"(kommunen|jobcentret|[\w-]*afdelingen|[\w-]*udvalget|visitationen|[\w-]*teamet"
    r"|forvaltningen|[\w-]*centret|[\w-]*kontoret|[\w-]*plejen|[\w-]*radgivningen"
    r"|sagsbehandleren|radgiveren|ledelsen|myndigheden)"
)
THIRD = rf"(?!{OWN_UNIT}\b)[\w-]{{2,}}(en|et|erne)"


@dataclass(frozen=True, slots=True)
class Cue:
    """A phrase that states an outcome: its name (said in ``why``) and pattern."""

    name: str
    pattern: re.Pattern[str]


def _cue(name: str, pattern: str) -> Cue:
    return Cue(name, re.compile(pattern))


CUES: tuple[Cue, ...] = (
    _cue(
        "overskrift",
        r"^(afgo?e?relse|afslag|bevilling|beslutning|decision|klagevejledning|outcome)\b"
        r"[^:.!?]{0,40}\s*[:\-!]",
    ),
    _cue("afslag", r"\bafslag\b|\bafsla(r|s|et)\b|\bgive[rs]? (dig |jer )?afslag"),
    _cue(
        "afvist",
        r"\b(ansogning|anmodning|application|claim|request)\w*\b.{0,40}\bafvis(t|es)\b"
        r"|\bafvis(t|er)\s+(din|jeres)\s+(ansogning|anmodning)",
    ),
    _cue(
        "bevilling",
        r"\bforlaeng(et|er|es)\s+(din|jeres)\s+bevilling\b"
        r"|\bbevill?i?(ge|ger|ges|get|gede|ling|lige|liget)\b",
    ),
    _cue("tilkendelse", r"\btilkend(t|er|es|te|else)\b"),
    _cue("ophør eller nedsættelse", rf"\b{BENEFIT}\b.{{0,50}}\b{STOPS}\b"),
    _cue("ophør eller nedsættelse", rf"\b{STOPS}\b.{{0,30}}\b{BENEFIT}\b"),
    _cue("ophør", r"\bophor(er|e|t)?\b.{0,30}\b(din|jeres|your)\b"),
    _cue(
        "tilbagebetaling",
        r"\btilbagebetal(?!ings?(regl|sag|pjece|mulighed))\w*|\bbetal(e|es|t)\s+(\S+\s+){0,5}tilbage\b|\brepay\w*"
        r"|\bpay\s+(\S+\s+){0,4}back\b",
    ),
    _cue("sanktion", r"\bsanktion(er|ere|eret|eres)?\b|\bsanctions?\b|\bsanctioned\b"),
    _cue(
        "træk i ydelsen",
        rf"\btra?e?kk?(e|er|es|et)\s+(\S+\s+){{0,4}}i\s+(din|jeres)\s+{BENEFIT}",
    ),
    _cue("ret til", r"\b(har|er)\s+(\w+\s+){0,2}(ikke\s+)?(laengere\s+)?ret\s+til\b"),
    _cue("ikke ret til", r"\bingen ret til\b|\bikke (laengere )?ret til\b"),
    _cue("berettiget", r"\b(er|bliver|vaere)\s+(\w+\s+){0,2}berettiget\s+til\b"),
    _cue("besluttet", r"\b(har|er|blevet)\s+(\w+\s+){0,2}besluttet\b|\bbeslutte[rt]\s+at\b"),
    _cue(
        "truffet afgørelse om",
        r"\btruffet\s+(en\s+)?afgo?e?relse\s*(:|om\b|i din sag om\b)"
        r"|\bafgo?e?relse(n)?\s+(er|bliver)\s*[:,]?\s*(at|:)",
    ),
    _cue("imødekommet", r"\bimodekom(me|mer|met|mes)\b"),
    _cue(
        "godkendt",
        r"\b(ansogning|anmodning)\w*\b.{0,40}\b(godkendt|godkender|accepteret)\b"
        r"|\b(godkendt|godkender|godkende)\s+(din|jeres)\s+(ansogning|anmodning)",
    ),
    _cue(
        "opfylder ikke betingelserne",
        r"\b(ikke\s+)?opfylder\s+(\w+\s+){0,2}(betingelser|krav|kriterier)\w*",
    ),
    _cue(
        "kan ikke få",
        r"\bkan\s+(desvaerre\s+)?ikke\s+(fa|fa\s+bevilget|fa\s+daekket)\s+"
        r"(\S+\s+){0,1}(hjaelp|tilskud|stotte|\w*ydelse|penge)\b"
        r"|\bkan\s+(desvaerre\s+)?ikke\s+"
        r"(daekke|betale for|give (dig|jer) (hjaelp|tilskud|stotte))\b"
        r"|\b(cannot|can't|can not)\s+(cover|pay for)\b",
    ),
    _cue(
        "du får en ydelse",
        rf"\b(du|i|you)\s+(far|will receive|will get|get)\s+(\S+\s+){{0,3}}{BENEFIT}\b.{{0,40}}"
        r"(\bfra (den |d\. )?\d|\bfra (naeste|1\.)|\bpr\.? \d|\bom maneden|\bhver\b"
        r"|\bmed virkning|\bfrom (\d|next|june|july|may|january|february|march|april|august"
        r"|september|october|november|december)|\ba month|\bper month|\bkr\b)"
        r"|\b(du|i)\s+far\s+(udbetalt\s+)?[\d.,]+\s*kr\.?\s+(i|til)\s",
    ),
    _cue("§ og klage", r"§.{0,80}\bklage|\bklage\w*.{0,80}§"),
    _cue("decided", r"\b(have|has|we've)\s+(now\s+)?decided\b"),
    _cue(
        "approved or refused",
        r"\b(application|claim|request)\b.{0,60}"
        r"\b(approved|granted|refused|rejected|denied|accepted|turned down)\b"
        r"|\b(have|has|we've)\s+(now\s+)?(granted|approved|awarded|refused|rejected)\b",
    ),
    _cue(
        "entitled",
        r"\b(you are|you're|you have been|you've been)\s+(not\s+)?(no longer\s+)?"
        r"(entitled|eligible|granted|awarded|approved)\b",
    ),
    _cue("no right to", r"\b(no|not have the|no longer have the|have the)\s+right to\b"),
    _cue("cannot grant", r"\b(cannot|can't|can not|unable to)\s+(grant|approve|award|give you)\b"),
    _cue(
        "refusal",
        r"\b(you|your\s+\w+(\s+\w+)?|it|this)\s+(has been|have been|was|is|were|are)\s+"
        r"(refused|denied|rejected|turned down)\b|\brefusal of\b",
    ),
    _cue(
        "giver ikke",
        # "Kommunen giver dig ikke hjælp til flytning"; the decider says no to an expense.
        rf"\b{AUTHORITY}\s+(giver|yder)\s+(dig\s+|jer\s+)?(desvaerre\s+)?(ikke|ingen)\s+"
        rf"(mere\s+|laengere\s+|flere\s+)?(\S+\s+){{0,2}}?{EXPENSE}\b"
        rf"|\b{AUTHORITY}\s+(giver|yder)\s+(dig|jer)\s+(\S+\s+){{0,2}}?{BENEFIT}\b.{{0,40}}\bkr\b"
        r"|\b(gives|ydes|bevilges|daekkes|betales|refunderes|bliver\s+(desvaerre\s+)?ikke\s+"
        r"(givet|bevilget|daekket|betalt|ydet))\s+(desvaerre\s+)?(ikke\s+)?"
        rf"(\S+\s+){{0,2}}?{EXPENSE}\b|\b(daekkes|betales|refunderes)\s+ikke\b",
    ),
    _cue(
        "dækker eller betaler",
        # "Kommunen dækker ikke udgiften til din medicin", "Vi betaler dit depositum".
        rf"\b{AUTHORITY}\s+(vil\s+|will\s+)?(daekker|betaler|refunderer|afholder|daekke|betale"
        r"|covers?|pays?|pay for|pays for)\s+(dig\s+|jer\s+)?(desvaerre\s+)?(ikke\s+|ingen\s+)?"
        rf"(for\s+)?(\S+\s+){{0,2}}?{EXPENSE}\b"
        r"|\b(daekker|betaler)\s+(kommunen|vi|jobcentret)\s+(dig\s+|jer\s+)?(desvaerre\s+)?ikke\b"
        r"|\b(kommunen|vi|jobcentret)\s+betaler\s+(desvaerre\s+)?ikke\s+for\b"
        r"|\b(kommunen|jobcentret|the municipality|the council)\s+(daekker|betaler|refunderer"
        r"|will not pay for|will not cover|does not pay for|does not cover|won't pay for"
        r"|won't cover|doesn't pay for|doesn't cover)\s+(desvaerre\s+)?(ikke\s+)?(for\s+)?\w+"
        rf"|\b{AUTHORITY}\s+(daekker|betaler|pays?|covers?|will pay|will cover)\s+(\S+\s+){{0,4}}?"
        r"[\d.,]*\d\s*(kr|%)"
        r"|\b(kommunen|vi|jobcentret)\s+vil\s+(desvaerre\s+)?ikke\s+(daekke|betale|give)\b"
        rf"|\b{AUTHORITY}\s+(will not|won't|does not|doesn't|do not|don't|cannot|can't)\s+"
        rf"(cover|pay for|give you|help with|help you with)\s+(\S+\s+){{0,3}}?{EXPENSE}\b"
        r"|\bwe\s+(will not|won't|do not|don't)\s+pay\s+for\b",
    ),
    _cue(
        "du får ikke",
        # "Du får ikke hjælp til depositum", "du modtager ikke længere hjælp fra os".
        r"\b((far|modtager)\s+(du\s+|i\s+)?(desvaerre\s+|derfor\s+|altsa\s+)?(ikke|ingen)\s+"
        r"|kommer\s+(du\s+|i\s+)?ikke\s+til\s+at\s+fa\s+)(laengere\s+|mere\s+)?"
        rf"(\S+\s+){{0,2}}?({BENEFIT}|daekket|depositum)\b"
        r"|\b(will not|won't|do not|don't|does not|doesn't|will no longer|no longer)\s+"
        rf"(get|receive)\s+(any\s+)?(\S+\s+){{0,2}}?({BENEFIT}|help)\b",
    ),
    _cue(
        "ikke udbetalt",
        rf"\b{BENEFIT}\s+(bliver|vil)\s+(desvaerre\s+)?ikke\s+(laengere\s+)?"
        r"(udbetalt|bevilget|forlaenget|daekket)\b",
    ),
    _cue(
        "valgt",
        # "Kommunen har valgt ikke at give dig tilskud"; not "har ikke valgt".
        r"\b(har|er)\s+((?!ikke\b)\w+\s+){0,2}valgt\s+(ikke\s+)?at\s+(give|bevilge|daekke"
        r"|betale|stoppe|standse|yde|afsla|nedsaette|forlaenge|lukke|tildele|imodekomme|tilbyde)\b"
        r"|\b(have|has|we've)\s+(\w+\s+)?chosen\s+(not\s+)?to\s+(give|grant|cover|pay|stop|end"
        r"|reduce|refuse)\b",
    ),
    _cue(
        "vurderet at",
        # "Vi har vurderet, at du ikke kan få hjælp": the assessment and its outcome.
        r"\bvurderet,?\s+at\s+(du|i|han|hun|(din|dit|jeres)\s+\w+|(?!(vi|jeg|det|der)\b)\w+)"
        r"\s+(ikke\s+)?"
        r"(laengere\s+)?(kan fa|kan modtage|far|skal have|skal fa|skal betale|har ret|har behov"
        r"|har brug for|er berettiget|er i malgruppen|opfylder|er omfattet)\b"
        r"|\bassessed that (you|your \w+|he|she)\s+(cannot|can't|can|are|is|will|do not|don't"
        r"|does not|qualify|need)\b",
    ),
    _cue(
        "kan ikke hjælpe med",
        # "Vi kan ikke hjælpe med depositum", "Efter en samlet vurdering kan kommunen ikke give".
        r"\bkan\s+((kommunen|vi|jobcentret)\s+)?(desvaerre\s+)?ikke\s+hjaelpe\s+(dig\s+|jer\s+)?"
        rf"med\s+(\S+\s+){{0,3}}?{EXPENSE}\b"
        r"|\bkan\s+(kommunen|vi|jobcentret)\s+(desvaerre\s+)?ikke\s+(daekke|betale|bevilge"
        r"|give\s+(dig|jer))\b"
        rf"|\bkan\s+(desvaerre\s+)?ikke\s+give\s+(dig\s+|jer\s+)?(\S+\s+){{0,2}}?{EXPENSE}\b"
        rf"|\b(cannot|can't|can not)\s+help\s+(you\s+)?with\s+(\S+\s+){{0,3}}?{EXPENSE}\b",
    ),
    _cue(
        "du kan få fra en dato",
        # A grant with its start: "du kan få hjælp til briller fra 1. marts".
        rf"\b(du|i)\s+kan\s+(nu\s+)?fa\s+(\S+\s+){{0,3}}?{BENEFIT}\b.{{0,40}}?"
        rf"\b(fra|pr\.?)\s+(den\s+|d\.\s+)?\d+([./]\s*\d+|\.?\s*{MONTH_WORDS})?",
    ),
    _cue(
        "i målgruppen",
        r"\b(er|ikke er)\s+(ikke\s+)?(laengere\s+)?i\s+malgruppen\b",
    ),
    _cue(
        "sagt ja eller nej",
        r"\b(kommunen|vi|jobcentret|familieafdelingen)\s+(har\s+)?(sagt|siger)\s+(ja|nej)\s+til"
        r"\s+(?!at\b)",
    ),
    _cue(
        "forhøjelse",
        rf"\b{BENEFIT}\b.{{0,30}}\b(forhojet|forhojes|sat op|saettes op|haevet|haeves)\b",
    ),
    _cue(
        "du får et beløb",
        r"\b(du|i)\s+far\s+[\d.,]+\s*kr\.?\s+(\S+\s+){0,3}?(om maneden|hver|fra|pr\.?)\b",
    ),
    _cue(
        "klagevejledning med frist",
        # A complaints notice for this decision: the right to complain and its deadline.
        rf"\b(kan|skal|ma)\s+(du\s+|i\s+)?klagen?\b.{{0,80}}?{DEADLINE}"
        rf"|\bklage(n|r)?\s+(skal|ma)\b.{{0,60}}?{DEADLINE}"
        r"|\bklagefrist(en)?\s+er\s+(pa\s+)?(\d+|to|fire|seks|otte)\s+uger"
        rf"|\b(can|may|must)\s+(complain|appeal)\b.{{0,80}}?{DEADLINE}"
        rf"|\b(complaint|appeal)\s+must\b.{{0,60}}?{DEADLINE}",
    ),
    # Fifth round: how other caseworkers phrase an outcome — "du er godkendt til", "visiteret
    # til", "det blev et nej", "ja til …", "er forlænget", "der kommer … hver", "fastholdes".
    _cue(
        "godkendt",
        # Approved *for* something, or a benefit approved — not "skemaet er godkendt", "din
        # tolk er godkendt", "du er godkendt til at møde online".
        r"\b(er|bliver|blev|is|are|has been|have been|was)\s+(nu\s+|now\s+)?(blevet\s+)?"
        r"(godkendt|approved)\s+(til|for)\s+(?!at\b|to\b)\w+"
        rf"|{BENEFIT}\s+(\w+\s+){{0,4}}(er|bliver|blev|is|are|has been|was)\s+(nu\s+|now\s+)?"
        r"(blevet\s+)?(godkendt|approved)\b(?!\s+(af|by)\s+(laegen|the doctor|ankestyrelsen))"
        r"|\b(vi|kommunen|we|the council|the municipality)\s+(har|have|has|'ve)\s+(nu\s+|now\s+)?"
        rf"(godkendt|approved)\s+(din|jeres|your|at|that|{BENEFIT})\b"
        rf"|{BENEFIT}\s+(\w+\s+){{0,3}}godkend(es|t)\b"
        r"|\b(fleksjob|\w+ordning\w*|\w+ydelse\w*)\s+approved\b",
    ),
    _cue(
        "visiteret",
        r"\b(er|bliver|blev|er blevet)\s+(nu\s+)?(blevet\s+)?(visiteret|fritaget)"
        r"\s+(til|for|fra)\b",
    ),
    _cue(
        "ja eller nej",
        # "Svaret er nej til flytteudgifterne", "svaret på din ansøgning er ja" — not a bare
        # "svaret er ja" (an answer to "må jeg tage min søn med?").
        r"\b(svaret|svar)\s+(er|blev|bliver)\s*:?\s*(et\s+)?(ja|nej)\s+til\s+(?!at\b)\w+"
        r"|\bsvar(et)?\s+pa\s+(din|jeres)\s+(ansogning|klage)\w*\s*(er|blev|bliver)?\s*:?\s*"
        r"(et\s+)?(ja|nej)\b"
        r"|\bdet\s+(blev|bliver)\s+(desvaerre\s+)?(et\s+)?(ja|nej)\b(?!\s+(fra|hos)\b)"
        rf"|\b(blev|bliver)\s+det\s+(desvaerre\s+)?(et\s+)?(ja|nej)\s+til\s+(\S+\s+){{0,3}}?{EXPENSE}\b"
        r"|\b(ansogning\w*|sag(en)?)\b[^.]{0,60}?\b(faerdigbehandlet|behandlet|afgjort)\b[^.]{0,30}?"
        r"\b(svaret|resultatet)\s+(er|blev|bliver)\s+(desvaerre\s+)?(et\s+)?(ja|nej|positivt|negativt)\b"
        rf"|\b(vi|jeg|kommunen|{OWN_UNIT}|min leder|lederen)\s+(har\s+|havde\s+)?(desvaerre\s+)?"
        r"(matte\s+)?(sagt|sagde|siger|sige)\s+(ja|nej)\s+(\S+\s+){0,4}?til\b"
        r"|\b(sagt|sagde)\s+(ja|nej)\s+i\s+(udvalget|visitationen|teamet)\b"
        # "Ja til aflastning fra 1/3", "fleksjob: ja" — not "ja til tirsdag", "Hej Mette: ja".
        rf"|(^|[:,;]\s*)(ja|nej)\s+til\s+(din\s+|jeres\s+)?({BENEFIT}|ansogning\w*)"
        r"|^(?!(hej|hejsa|hi|hello|dear|kaere|goddag|godmorgen)\b)[\w' -]{2,30}:\s*(ja|nej)\b"
        r"(?!\s+(tak|,|du|i|vi)\b)"
        r"|\b(gik|er gaet)\s+igennem\b(?!\s+(systemet|hos|til))|\bit went through\b"
        r"|\b(it's|it is)\s+a\s+(no|yes)\b|\b(we|the (kommune|municipality|council|committee"
        r"|job ?cent(re|er)|team))\s+(has\s+|have\s+)?(said|says)\s+(no|yes)\s+to\b",
    ),
    _cue(
        "forlænget",
        # A benefit, stay or course extended — not "mødet er forlænget", "din frist er forlænget".
        rf"({BENEFIT}|\w*ophold\w*|\w*forlob\w*|\w*plads\w*|\w*stay|\w*placement)\s+(\w+\s+){{0,4}}"
        r"(er|bliver|blevet|is|has been|was|will be)\s+(nu\s+|now\s+)?(blevet\s+)?"
        r"(forlaenget|forlaenges|extended|prolonged)\b"
        rf"|({BENEFIT}|\w*ophold\w*|\w*forlob\w*)\s+(\w+\s+){{0,4}}forlaenges\s+(til|med|i)\b"
        r"|\b(vi|kommunen|we|we've)\s+(har|have|has)?\s*(\w+\s+){0,2}(forlaenget|extended"
        rf"|prolonged)\s+(din|jeres|your|{BENEFIT})\b",
    ),
    _cue(
        "tildelt",
        r"\b(far|faet|fik)\s+tildelt\b|\btildelt\s+(en|et)\b"
        r"|\b(har|have|has)\s+(nu\s+|now\s+)?(faet|got|been offered|been given)\s+"
        r"(en\s+|et\s+|a\s+)?(fast\s+)?(plads|bolig|plejebolig|lejlighed|hjem|place|flat)\b"
        r"|\b(er|blevet)\s+(blevet\s+)?tilbudt\s+(en|et)\b",
    ),
    _cue(
        "du får med et omfang",
        # "Du får en mentor 3 timer om ugen", "Poul gets a fixed respite stay … every month".
        r"\b(far|gets|get|will get|'ll get)\s+(\S+\s+){0,6}?"
        r"(\d+\s*(timer|timers|dogn|klip|samtaler|hours|days|sessions)\b"
        r"(?!\s+(med|hos|with|sammen)\s+(mig|os|me|us)\b)|[\d.,]*\d\s*kr\b)"
        r".{0,40}?\b(om|hver|a|per|pr|every|each|i alt|fra(?!\s+kl)|from(?!\s+\d)|starting"
        r"|in total)\b"
        r"|\b(far|gets|get|will get|'ll get)\s+(\S+\s+){0,6}?(\w+\s+){0,2}"
        r"(every|each|hver)\s+(uge|dag|maned|morgen|week|day|month|morning)\b.{0,40}?"
        r"\b(fra|from|starting)\b",
    ),
    _cue(
        "der kommer hjælp",
        r"\b(der\s+kommer|kommer\s+der|fremover\s+kommer)\s+(\S+\s+){0,4}?"
        r"(\w*hjaelp\w*|\w*plejen?|\w*sygeplejerske|frokost|mad\w*|\w*assistent|kontaktperson"
        r"|mentor)\b.{0,40}?\b(hver|om ugen|om dagen|gange|fra)\b",
    ),
    _cue(
        "fastholdt eller ændret",
        r"\b(fastholder|aendrer|omgor)\s+(vi\s+)?(\w+\s+)?(afgorelsen|afslaget|beslutningen)\b"
        r"|\b(afgorelse|afgorelsen|afslaget|beslutningen)\s+(fastholdes|omgores|aendres"
        r"|er omgjort|er aendret)\b|\b(vi|kommunen)\s+fastholder\s+at\b"
        r"|\b(uphold|upheld|changing|change|changed|reverse[ds]?)\s+(the\s+)?(earlier\s+|former\s+"
        r"|previous\s+)?decision\b|\b(earlier|former|previous)\s+decision\s+(is|has been)\s+"
        r"(upheld|changed|reversed)\b",
    ),
    _cue(
        "ophør eller nedsættelse",
        rf"\b(vi|we|kommunen|we're|we are)\s+(stopper|standser|afslutter|closing|close|stop|ending)"
        rf"\s+(\S+\s+){{0,3}}?({BENEFIT}|\w*behandling\w*|rehabilitering\w*|case)\b"
        rf"|\b(sat|saetter)\s+(din|dit|jeres|hans|hendes)\s+(\S+\s+)?({BENEFIT}|\w*betaling)\s+"
        r"(ned|op)\b"
        rf"|\b(vi|kommunen|we)\s+(traekker|will deduct|deduct|are deducting)\s+(\S+\s+){{0,3}}?"
        rf"{BENEFIT}"
        r"|\b(sanctioning|sanktionerer)\b",
    ),
    _cue(
        "ophør",
        # "Hjælpen til din mor fortsætter ikke efter nytår": the "not" is the outcome.
        rf"\b{BENEFIT}\s+(\S+\s+){{0,4}}?(fortsaetter ikke|bliver mindre|bliver lavere"
        r"|is being cut|are being cut|is being reduced|ophorer)\b",
    ),
    _cue(
        "kan ikke få",
        rf"\bkan\s+(desvaerre\s+)?ikke\s+fa\s+(bevilget\s+|daekket\s+)?(\S+\s+){{0,1}}{EXPENSE}\b"
        r"|\b(kan|vil)\s+((vi|jeg|kommunen)\s+)?(desvaerre\s+)?ikke\s+(ga med til|imodekomme)\b",
    ),
    _cue(
        "lov til",
        # "Vi kan godt gå med til at dække …", "du får (ikke) lov til at beholde bilen".
        r"\b(kan|vil)\s+((vi|jeg|kommunen)\s+)?godt\s+(ga med til|imodekomme)\b"
        r"|\bfar\s+(desvaerre\s+)?(ikke\s+)?lov\s+(til\s+)?at\b|\bma\s+gerne\s+fa\b"
        rf"|\bma\s+(gerne|godt)\s+beholde\s+(\S+\s+){{0,2}}?{EXPENSE}\b",
    ),
    _cue(
        "truffet afgørelse om",
        r"\b(er|blev)\s+truffet\s+(en\s+)?beslutning\s+om\b|\btraeffer\s+(hermed\s+)?afgorelse"
        r"\s+efter\b|\b(er|blev)\s+(det\s+)?(nu\s+)?(besluttet|afgjort)\s*:"
        r"|\bbesluttede\b|\bblev\s+(\w+\s+)?besluttet\b|\b(it|the case)\s+(has been|was)\s+"
        r"decided\b|\bthe case is decided\b|\beftergiv(et|es)\b",
    ),
    _cue(
        "vi betaler",
        # "Vi dækker halvdelen af prisen", "we'll pay for Mia's swimming therapy".
        r"\b(vi|kommunen)\s+(kan\s+godt\s+|vil\s+)?(daekker|betaler|daekke|betale)\s+(\S+\s+){0,2}?"
        r"(halvdelen|prisen|det hele|bogerne|\d+\s*%|\w*kort\w*|\w*certifikat\w*|ombygning\w*"
        r"|de\s+[\d.,]+)"
        r"|\b(we|we'll|the (kommune|municipality|council|job ?cent(re|er)))\s+"
        r"(will\s+|can\s+|'ll\s+)?(pay|cover)\s+(?!(for\s+)?(back|the taxi|the bus|the parking"
        r"|the ticket|your ticket|your coffee|lunch)\b)(for\s+)?\w+"
        r"|\b(is|are|will be|has been)\s+covered\b"
        rf"|\b(we're|we are)\s+(covering|paying)\s+(for\s+)?(\S+\s+){{0,2}}?{EXPENSE}\b"
        r"|\bwe\s+(will\s+|'ll\s+)?(reimburse|refund)\s+(your|the)\b",
    ),
    _cue(
        "opfylder ikke betingelserne",
        r"\b(do not|don't|does not|doesn't)\s+(meet the (conditions|requirements|criteria)|qualify)"
        r"|\b(are|is)\s+(not\s+)?in\s+the\s+target\s+group\b",
    ),
    # Sixth round (train-r7-*): casual grants and stops that name what they are about —
    # "vi kan godt give tilskud til …", "du kan godt få hjælp til …", "der er ikke grundlag
    # for …", a benefit at a new level or amount from a date, samvær changed, "you owe …".
    _cue(
        "vi kan godt give",
        rf"\b(vi|kommunen|jobcentret)\s+(kan|vil)\s+(godt|gerne)\s+(give|betale|daekke|bevilge"
        rf"|hjaelpe)\s+(dig\s+|jer\s+)?(med\s+|for\s+)?{NOT_PAPERS}(\S+\s+){{0,2}}?{EXPENSE}\b"
        r"(?!\s+til\s+at\b)"
        rf"|\b(kan|vil)\s+(godt|gerne)\s+(give|bevilge)\s+(dig\s+|jer\s+)?{NOT_PAPERS}"
        rf"(\S+\s+){{0,2}}?{EXPENSE}\b(?!\s+til\s+at\b)"
        rf"|\b(du|i)\s+far\s+(nu\s+)?(daekket|bevilget|refunderet)\s+(\S+\s+){{0,2}}?{EXPENSE}\b"
        rf"|\b(du|i)\s+kan\s+(nu\s+)?(godt\s+)?fa\s+(betalt|daekket|bevilget|refunderet)\s+"
        rf"(\S+\s+){{0,2}}?{EXPENSE}\b"
        rf"|\b(du|i)\s+kan\s+(nu\s+)?godt\s+fa\s+{NOT_PAPERS}(\S+\s+){{0,2}}?{EXPENSE}\b"
        r"(?!\s+til\s+at\b)"
        r"|\b(du|i|you)\s+(kan|can)\s+(nu\s+|now\s+|godt\s+)?(fa|get|have)\s+(\S+\s+){0,3}?"
        rf"{EXPENSE}\b[^.]{{0,40}}?\b(alligevel|after all)\b"
        rf"|\b(we|the (municipality|council|kommune))\s+(can|will|'ll)\s+(help|pay|cover)\s+"
        rf"(you\s+)?(with|for)\s+(the\s+|your\s+)?(?!(move|help|school)\b){NOT_PAPERS}"
        rf"(\S+\s+){{0,1}}?{EXPENSE}\b",
    ),
    _cue(
        "ikke grundlag for",
        r"\b(ikke|intet|ingen)\s+(\w+\s+)?grundlag\s+for\s+(at\s+(give|bevilge|yde|daekke|betale"
        rf"|hjaelpe|tilkende|forlaenge)\b|(\S+\s+){{0,2}}?{EXPENSE}\b)"
        rf"|\bno\s+(basis|grounds)\s+for\s+(granting|giving|covering|(\S+\s+){{0,2}}?{EXPENSE}\b)",
    ),
    _cue(
        "en ydelse ændret",
        # "Jeres fripladstilskud er på 100 % fra august", "din kontanthjælp fortsætter, men med
        # 800 kr mindre om måneden", "your daycare fee reduction is now 70 % from August".
        rf"{BENEFIT}\)?\s+(\S+\s+){{0,3}}?(er|bliver|udgor|is|will be)\s+(nu\s+|now\s+)?"
        r"(pa\s+|sat til\s+|aendret til\s+)?[\d.,]*\d\s*(kr\b|%|kroner\b).{0,30}?"
        r"\b(fra|pr\.?|from|starting|med virkning)\b"
        rf"|{BENEFIT}\b.{{0,50}}?\b[\d.,]*\d\s*kr\.?\s+(mindre|mere|lavere|hojere|less|more)\b"
        rf"|{BENEFIT}\s+(\S+\s+){{0,3}}?(er|bliver|is|has been)\s+(nu\s+|now\s+)?(genoptaget"
        r"|genoptages|genbevilget|resumed|reinstated)\b",
    ),
    _cue(
        "samvær ændret",
        r"\bsamvaer\w*\b.{0,60}?\b(udvides|udvidet|begraenses|begraenset|indskraenkes|indskraenket"
        r"|suspenderes|suspenderet|ophorer|(sat|saettes)\s+(\w+\s+){0,2}pa pause|overvaget"
        r"|overvages|under tilsyn)\b"
        r"|\b(visits?|contact|samvaer)\b[^.]{0,60}?\bwill\s+(now\s+)?be\s+(supervised|suspended"
        r"|reduced|extended|increased|stopped|paused)\b",
    ),
    _cue(
        "godkendt",
        r"\b(er|bliver|blev)\s+(nu\s+)?(blevet\s+)?godkendt\s+som\s+(\w*familie|\w*vaerge|\w*forael\w*"
        r"|aflaster\w*)\b|\bapproved\s+as\s+(a\s+)?(foster|respite|kinship)\b"
        r"|\b(vi|kommunen|we)\s+(har|have|'ve)\s+(nu\s+|now\s+)?(godkendt|approved)\s+"
        rf"(\S+\s+){{0,2}}?{EXPENSE}\b"
        rf"|{EXPENSE}\s+(\S+\s+){{0,4}}?(is|are|has been|have been)\s+(now\s+)?(granted|awarded)\b"
        r"|\b(application|claim|request|ansogning\w*|\w*money|pengene)\b.{0,60}?"
        r"\b(went|has gone|came|has come)\s+through\b(?!\s+(to|the system|online)\b)",
    ),
    _cue(
        "du får fra en dato",
        # "Fra 1/3 får du rengøring hver 3. uge", "fra næste uge kommer hjemmehjælpen hver dag".
        r"\bfra\s+(den\s+|d\.\s*)?(\d+[./]\s*\d+|\d+\.?\s+[a-z]+|naeste\s+\w+|mandag|tirsdag|onsdag"
        r"|torsdag|fredag|lordag|sondag)\b[^.]{0,10}?\s(far\s+(du|i)\s+|kommer\s+(\S+\s+)?"
        r"(\w*hjaelp\w*|\w*plejen?)\s+)(\S+\s+){0,3}?(hver|\d+\s+gange|om\s+(ugen|dagen|maneden))\b",
    ),
    _cue(
        "tilbagebetaling",
        r"\b(you owe|du skylder)\s+(os\s+|us\s+|kommunen\s+)?[\d.,]*\d\s*(kr|kroner|dkk)\b",
    ),
    _cue(
        "approved or refused",
        r"\b(we|we've|we have|have|has)\s+(had to|have to|must)\s+(reject|refuse|turn down|decline)"
        r"\s+(the|your)\s+(\w+\s+)?(application|request|claim)\b"
        r"|\bwill\s+(reduce|cut)\s+(it|them|your\s+[\w ]{1,20}?)\s+to\s+(\w+\s+){0,3}?"
        r"(a|per|each|every)\s+(day|week|month)\b"
        rf"|^(appeal|complain)\s+{DEADLINE}",
    ),
)
