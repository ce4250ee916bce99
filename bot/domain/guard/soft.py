"""Soft and indirect outcomes: the eighth round's cues, in the four languages.

Caseworkers often state an outcome without its formal words: the money arrives ("pengene
går ind på din konto fra næste måned", "ستصل الأموال إلى حسابك"), a share is covered ("vi
kan dække halvdelen", "ми покриємо половину"), an approval in the first person ("I have
approved", "я схвалила"), a verdict in everyday words ("det bliver desværre ikke til noget",
"it's a yes", "нічого не вийде"), a level changed from a date ("opjusteres til 45 timer om
ugen fra 1/4", "goes up to 4 a day"), a deduction ("bliver trukket 3 dage", "2 days will be
deducted"), a place or a programme assigned ("you've been assigned", "вам виділено",
"تمت إحالتك"), a measure continued or ended ("kører videre uændret", "we won't be
extending it").

The cues carry the names of :mod:`bot.domain.guard.lexicon`'s, so the scopes of
:mod:`bot.domain.guard.scopes` (a question, a condition, a possibility, a decision
mentioned …) govern them as they govern those. Written against the normal form of
:mod:`bot.domain.guard.text`.
"""

from __future__ import annotations

from bot.domain.guard import lexicon_uk_ar
from bot.domain.guard.lexicon import BENEFIT, EXPENSE, MONTH_WORDS, Cue, _cue

# An amount of money: "2.340 kr", "1 300 крон", "8.500 كرون".
AMOUNT = r"[\d][\d.,  ]*\s*(kr\b|kroner\b|dkk\b|крон\w*|كرون)"
# When it starts: "fra næste måned", "from 1 May", "з квітня", "ابتداء من".
# A period that starts (not a pay day: "fra den 3." is when, not what).
PERIOD = (
    rf"(\bfra\s+(naeste\s+maned|{MONTH_WORDS})|\bfrom\s+next\s+month|(^|\s)з\s+наступного\s+місяця"
    r"|ابتداء من الشهر|من الشهر القادم)"
)
# An amount not already known: "Der kommer 2.450 kr", not "De 2.450 kr kommer".
NEW_AMOUNT = rf"(?<!\bde )(?<!\bthe )(?<!\bdine )(?<!\byour ){AMOUNT}"
START = (
    rf"(\bfra\s+(den\s+|d\.\s*)?(\d|naeste|i morgen|mandag|{MONTH_WORDS})"
    r"|\bpr\.?\s*\d|\bfrom\s+(\d|next|tomorrow|monday|january|february|march|april|may|june"
    r"|july|august|september|october|november|december)"
    r"|(^|\s)з\s+(\d|наступн\w*|завтрашн\w*|січня|лютого|березня|квітня|травня|червня|липня"
    r"|серпня|вересня|жовтня|листопада|грудня)|ابتداء|اعتبارا|من الشهر|من \d)"
)
UK_BENEFIT = lexicon_uk_ar.BENEFIT
# Care and measures in Ukrainian and Arabic besides the benefits: care, therapy, hours.
UK_AR_MEASURE = (
    rf"({UK_BENEFIT}|догляд\w*|терапі\w*|годин\w*|відвідуван\w*|\w*رعايه|\w*علاج|\w*ساعات"
    r"|\w*زيارات)"
)

CUES: tuple[Cue, ...] = (
    _cue(
        "du får en ydelse",
        # The money arrives: "Pengene går ind på din konto fra næste måned", "Der kommer 2.450
        # kr ind på din konto", "vi har overført 2.000 kr til din konto".
        rf"^(?![^.;]*\b(din|dit|jeres|your)\s+(\S+\s+)?{BENEFIT}\b)[^.;]*?\b{NEW_AMOUNT}[^.;]{{0,40}}?"
        r"\b(ind\s+pa|into)\s+(din|jeres|your)\s+(nem|bank\s+)?(konto|account)\b"
        r"|\b(pengene|penge|beloebet|belobet|the money|payments?)\b[^.;]{0,40}?"
        r"\b(ind\s+pa|pa|til|into"
        rf"|to|in)\s+(din|jeres|your)\s+(nem|bank\s+)?(konto|account)\b[^.;]{{0,30}}?({PERIOD}|{AMOUNT})"
        rf"|(гроші|кошти)[^.;]{{0,60}}?\bна\s+(ваш\s+|твій\s+)?рахун\w*[^.;]{{0,30}}?({PERIOD}|{AMOUNT})"
        rf"|{NEW_AMOUNT}[^.;]{{0,60}}?\bна\s+(ваш\s+|твій\s+)?рахун\w*"
        r"|(الاموال|المبلغ|المال)[^.;]{0,60}?(الي|في|علي)\s+حساب\w*[^.;]{0,30}?"
        rf"({PERIOD}|{AMOUNT})",
    ),
    _cue(
        "du får en ydelse",
        # A benefit paid from a date: "з травня комуна платитиме 1 100 крон на місяць".
        r"\b(комуна|ми)\s+(платитиме|виплачуватиме|оплачуватиме|оплатимо|покриємо|покриватимемо"
        r"|оплатить|покриє)\b"
        r"|\b(we|the (municipality|council|kommune))\s+(will\s+|'ll\s+)?(fund|have agreed to fund"
        r"|agreed to fund)\b|\bwe've agreed to (fund|pay|cover)\b"
        r"|\b(سنغطي|سندفع|سنتحمل|يمكننا تغطيه|يمكننا تغطي\w*|نغطي)\b",
    ),
    _cue(
        "dækker eller betaler",
        # A share or an expense taken over: "vi kan dække halvdelen", "vi overtager udgiften",
        # "vi betaler Elias' ridefysioterapi resten af året", "I får dækket udgiften".
        r"\b(vi|kommunen|jobcentret)\s+(kan\s+)?(godt\s+)?(daekke|daekker|betale|betaler)\s+"
        r"((?!ikke\b)\S+\s+){0,3}?(halvdelen|en del af|resten|\d+\s*%|op til)"
        r"(?!\s+\w*(mode|samtale))"
        r"|\b(vi|kommunen|jobcentret)\s+(godt\s+)?(daekker|betaler)\s+((?!ikke\b)\S+\s+){0,2}?"
        r"(udgiften|udgifterne|prisen|regningen)\b"
        r"|\b(vi|kommunen)\s+overtager\s+(\S+\s+)?udgift\w*"
        r"|\b(vi|kommunen)\s+betaler\s+((?!ikke\b)\S+\s+){0,2}?[\w']*(terapi|fysioterapi|kursus|kurset"
        r"|uddannelse\w*|kort|buskort|ophold\w*|plads\w*|kontingent\w*)\b"
        r"|\b(du|i)\s+far\s+(nu\s+)?daekket\s+(\S+\s+){0,4}?(udgift\w*|\w*regning\w*|[\w']+kørsel"
        r"|korsel)\b"
        r"|\b(we|we'll|we will)\s+(can\s+)?(cover|pay)\s+(half|part|the rest|up to|\d)",
    ),
    _cue(
        "godkendt",
        # First-person approvals and grants: "I have approved", "jeg har godkendt, at",
        # "я схвалила оплату", "det er et ja", "it's a yes", "det går i orden med pengene".
        r"\b(i|we)\s+(have|'ve)\s+(now\s+)?(approved|granted|signed off)\s+(that\b|(your|the)\s+"
        r"(application|request|claim|funding|payment)|funding|payment|[\d.,]*\d)"
        r"|\bjeg\s+har\s+(nu\s+)?godkendt,?\s+(at\b|(din|jeres)\s+(ansogning|anmodning)"
        rf"|((?!ikke\b)\S+\s+){{0,2}}?{EXPENSE}\b)"
        r"|\bjeg\s+har\s+(nu\s+)?(bevilget|visiteret\s+(dig|jer|hende|ham))\b"
        r"|\b(vi\s+)?(har\s+)?faet\s+ok\s+til\s+at\s+(betale|daekke|give|bevilge)\b"
        r"|\bdet\s+gar\s+i\s+orden\s+med\s+(\S+\s+){0,2}?(pengene|betaling\w*|\w*tilskud\w*"
        r"|\w*hjaelp\w*)"
        r"|\bdet\s+er\s+nu\s+pa\s+plads,?\s+at\s+[^.]{0,30}?\b(far|starter\s+i|begynder\s+i)\b"
        r"|\b(я|ми)\s+(схвалила|схвалив|схвалили|погодила|погодив)\b"
        r"|\b(er|is|are|has been|was)\s+(nu\s+|now\s+)?(only\s+)?(partly\s+|delvist\s+)?"
        r"(godkendt|approved|granted)\s+(op til|up to|for|med|at)\s+[\d.,]*\d"
        r"|\bapproved\s+for\s+\d+\s+(hours|timer)\b"
        r"|\byour\s+[\w ()§.'-]{1,50}?\s+(is|has been|was|have been|are)\s+(now\s+)?"
        r"(only\s+)?(partly\s+|partially\s+)?(approved|granted)\b(?!\s+by\s+(?!the\s+(municipality"
        r"|council|committee)))"
        r"|(^|\s)(معتمد|معتمده)\s+(ل\s*\d|لمده|من\s+\d|حتي|ابتداء)",
    ),
    _cue(
        "tildelt",
        # A place or a programme assigned: "you've been assigned a resource programme",
        # "din mor får plads på Aftenstjernen", "вам виділено житло", "تمت إحالتك".
        r"\b(you've|you have|has|have|he's|she's)\s+been\s+(assigned|given|allocated|offered"
        r"|referred to)\s+(a|an|the)\s+(\S+\s+){0,2}?(place|programme|program|flat|care home"
        r"|nursing home|respite\w*|contact person|mentor|support\w*|housing|plejebolig"
        r"|\w*forlob)\b"
        r"|\bfar\s+(en\s+)?(fast\s+)?plads\s+(pa|i)\s+(?!(holdet|listen|venteliste\w*|bussen|bilen"
        r"|kalenderen|modet|klassen|kurset)\b)"
        r"|\b(вам|вас|тобі|тебе|мамі|татові|йому|їй)\s+(виділено|направлено|дали|надали"
        r"|призначено)\b(?!\s+(\S+\s+)?(зустріч|прийом|час|дат|перекладач|консультаці))"
        r"|\bвас\s+визнано\b"
        r"|\b(تمت|تم)\s+(احالت\w*|اعفاء\w*|تخصيص\w*|قبول\w*)(?!\s+(\S+\s+)?موعد)"
        r"|\bحصل(ت)?\s+(\S+\s+)?علي\s+(?!موعد)(\S+\s+){0,5}?(لمده|اسبوعيا|شهريا|كل شهر"
        r"|كل اسبوع)",
    ),
    _cue(
        "ikke til noget",
        # A no in everyday words: "det bliver desværre ikke til noget", "there won't be any extra
        # help", "цього разу нічого не вийде", "لن يتحقق الأمر", "svaret er, at du ikke kan".
        r"\b(bliver|blev)\s+(det\s+)?(desvaerre\s+)?ikke\s+til\s+noget\b"
        r"|\bнічого\s+не\s+(вийде|буде)\b|\bلن\s+يتحقق\b"
        r"|\bsvaret\s+er,?\s+at\s+(du|i)\s+ikke\s+(kan|far)\b",
    ),
    _cue(
        "ja eller nej",
        # A verdict: "det er et ja herfra", "it's a yes", "Ansøgningen om …: nej, desværre".
        r"\bdet\s+er\s+(nu\s+)?et\s+(ja|nej)\b(?!\s+(tak\b|fra\s+(?!(mig|os|kommunen|udvalget|teamet"
        r"|visitationen)\b)))"
        r"|\b(it's|it is)\s+(unfortunately\s+)?a\s+(yes|no)\b"
        r"|\bansogning\w*\b[^.:?]{0,80}:\s*(ja|nej)\b",
    ),
    _cue(
        "kan ikke få",
        # "Du kan ikke få efterværn", "at du ikke kan få fleksjob", "cannot get free transport",
        # "we cannot offer you a stairlift", "скутер вам не надаватимуть".
        # An entitlement, not a service on a given day ("ikke aflastning den weekend").
        r"\b(du|i)\s+kan\s+(desvaerre\s+)?ikke\s+fa\s+(\S+\s+){0,1}?(efterv\w+|fleksjob\w*"
        r"|\w*pension|ressourceforlob\w*|revalidering\w*|boligsikring\w*|\w+tillaeg\w*)\b"
        r"|\b(cannot|can't|can not|won't|will not)\s+(get|offer you|be offered)\s+"
        r"(a\s+|an\s+|the\s+)?"
        r"(\S+\s+){0,2}?(stairlift|transport|flat|grant|allowance|benefit\w*|support|wheelchair"
        r"|care home|nursing home)\b"
        r"|\bне\s+(надаватимуть|надаватимемо|надамо|надаємо|оплатимо|покриємо)\b"
        r"|\bне\s+буде\s+(виплачено|виплачена|надано|надана|оплачено)\b"
        r"|\bلا\s+(يمكننا|نستطيع)\s+(\S+\s+)?(تغطي\w*|دفع\w*|تحمل\w*)",
    ),
    _cue(
        "ophør eller nedsættelse",
        # A level changed: "din BPA-ordning opjusteres til 45 timer om ugen fra 1/4", "Din
        # datters anbringelse ændres … pr. 1/12", "fjernes hjælpen til tøjvask".
        r"\b(din|dit|jeres|hans|hendes|your)\s+(\S+\s+){0,2}?"
        rf"({BENEFIT}|\w*ordning\w*|anbringelse\w*|\w*hjaelp\w*|\w*pleje\w*)\s+(\S+\s+){{0,3}}?"
        r"(opjusteres|nedjusteres|udvides|indskraenkes|haeves|saenkes"
        r"|fjernes|bortfalder)\b(?!\s+(fra\s+|til\s+)?(mandag|tirsdag|onsdag|torsdag|fredag|lordag"
        r"|sondag|kl|tid|tidspunkt\w*|dag)\b)[^.]{0,60}?"
        rf"({START}|\btil\s+[\d.,]*\d\s*(timer|kr|%|gange|besog))"
        r"|\b(fjernes|bortfalder|ophorer)\s+(din\s+|dit\s+)?(\S+\s+)?(\w*hjaelp\w*|\w*pleje\w*"
        rf"|{BENEFIT})\b"
        rf"|\b(far|fa|get|receive)\s+(du\s+|i\s+)?(ca\.?\s+|about\s+)?{AMOUNT}\s+(mindre|mere|less|more)\b"
        r"(?![^.]*\b(skat\w*|tax\w*|a-skat|skattekort\w*))"
        rf"|\byour\s+(\S+\s+){{0,3}}?{BENEFIT}\b(\s+\S+){{0,2}}?\s+(goes?|will go|go)\s+(up|down)"
        r"\s+to\s+[\d.,]*\d"
        r"|\b(visits?|hours|besog)\s+(goes?|will go|go)\s+(up|down)\s+to\s+[\d.,]*\d"
        rf"|\b{UK_AR_MEASURE}\s+(\S+\s+){{0,3}}?(зменшиться|збільшиться|стане більше|стане менше"
        r"|зменшено|збільшено)\b"
        rf"|\bми\s+(зменшили|скоротили)\s+(\S+\s+){{0,2}}?{UK_AR_MEASURE}"
        rf"|\bми\s+продовжуємо\s+(\S+\s+){{0,2}}?{UK_AR_MEASURE}"
        rf"|\bتم\s+(تخفيض|تقليص|زياده|رفع|خفض)\s+{UK_AR_MEASURE}",
    ),
    _cue("forhøjelse", rf"\bми\s+збільшили\s+(\S+\s+){{0,2}}?{UK_AR_MEASURE}"),
    _cue(
        "træk i ydelsen",
        # "du bliver trukket 1 dags ydelse", "2 days will be deducted", "утримаємо 2.100 kr",
        # "du får 3 sanktionsdage", "kommunen kræver 12.300 kr tilbage".
        r"\b(bliver|blive|vil blive)\s+trukket\s+(\S+\s+){0,3}?(\d+|en|to|tre|fire|fem)\s+"
        r"(dag|dage|dags)\b"
        rf"|\b(bliver|blive)\s+trukket\s+{AMOUNT}(?![^.]{{0,20}}\bskat)"
        r"|\b(\d+|one|two|three|four|five)\s+(days?|kr)\b[^.]{0,30}?\b(will be|are|is|has been"
        r"|have been)\s+deducted\b"
        r"|\b(утримаємо|утримуватимемо|утримано|буде утримано|утримуємо)\b(?![^.]{0,30}подат)"
        r"|\bfar\s+(\d+|en|to|tre|fire|fem)\s+sanktionsdag\w*"
        rf"|\bkraever\s+(\S+\s+){{0,2}}?{AMOUNT}\s+(\S+\s+){{0,2}}?tilbage\b",
    ),
    _cue(
        "forlænget",
        # A measure continued or ended: "vi lader merudgiftsydelsen køre videre uændret",
        # "we won't be extending it", "ستستمر … بدون تغيير", "vi anbringer ikke".
        # A review's outcome ("efter revurderingen"), not a reassurance ("fortsætter uændret").
        r"\b(vi|kommunen)\s+lader\s+(\S+\s+){0,2}?(kore|fortsaette|lobe)\s+(videre\s+)?uaendret\b"
        r"|\buaendret\s+efter\s+(revurdering\w*|opfolgning\w*|genvurdering\w*|vurdering\w*"
        r"|review\w*)"
        r"|\bwe\s+(won't|will not|are not|aren't)\s+(be\s+)?(extending|renewing|continuing)"
        r"\s+(it|them"
        rf"|your|the\s+(\S+\s+)?({BENEFIT}|therapy|treatment|programme|placement|stay))\b"
        r"|(ستستمر|تستمر|سيستمر|يستمر)[^.]{0,60}(بدون|دون)\s+تغيير",
    ),
    _cue(
        "du får ikke",
        # Not extended, not paid any more — "not before Friday" is set aside as for the others.
        r"\b(far|fa)\s+(desvaerre\s+)?ikke\s+(laengere\s+)?(forlaenget|bevilget)\b"
        r"|\budbetales\s+(desvaerre\s+)?ikke\s+(mere|laengere|flere)\b(?!\s+end\b)"
        r"|\b(vi|kommunen)\s+(anbringer|bevilger|forlaenger|visiterer)\s+(\w+\s+)?ikke\b"
        r"(?![^.]{0,20}\bfrist)"
        r"|\b(there|it)\s+(won't|will not)\s+be\s+(any\s+)?(extra|more|further)\s+"
        r"(help|money|support)\b",
    ),
    _cue(
        "dækker eller betaler",
        # "vi kommer ikke til at betale for ekstra rengøring", "vi kan ikke fortsætte med at
        # betale fritidshjemmet" (a delay or an answer not given is set aside as for the others).
        r"\b(vi|kommunen)\s+(kommer\s+ikke\s+til\s+at|kan\s+(desvaerre\s+)?ikke\s+fortsaette"
        r"\s+med\s+at)\s+(betale|daekke|give|yde)\b",
    ),
    _cue(
        "visiteret",
        # Assessed into a group that sets duties: "du er nu vurderet jobparat".
        r"\b(vurderet|visiteret|er\s+nu|er\s+blevet|flyttet\s+fra\s+\w+\s+til)\s+(\w+\s+)?"
        r"(jobparat|aktivitetsparat|uddannelsesparat)\b"
        r"|\ber\s+(jobparat|aktivitetsparat|uddannelsesparat)\s+fra\b",
    ),
)
