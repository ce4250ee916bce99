"""Danish: risk phrases, idioms that are not risk, scope words, intents.

Written from how families write (see tests/data/triage/README.md), not from a
dictionary: spoken forms ("ik", "blir"), missing æøå ("slaar", "doer") are
covered by the normal form; inflections by ``*``. Levels: ``akut`` pages,
``bekymring`` is a same-day concern.
"""

from __future__ import annotations

LANG = "da"

RISK: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("selvmord", "akut", (
        "selvmord*", "selv mord*", "selvmords*", "tage mit ~ liv", "tag* mit ~ liv",
        "tag* livet af (mig|mig selv|sig|sig selv)", "slå* mig selv ihjel", "slå* mig ihjel selv",
        "vil ~ dø$", "vil ~ dø (nu|snart|i nat|i aften)", "vil bare dø", "lyst til at dø", "ønsker at dø",
        "ønsker ~ død", "vil ~ være død", "gid jeg var død", "dø nu", "dør snart",
        "vil ikke leve", "ikke lyst til at leve", "orker ikke ~ leve", "orker ikke livet",
        "kan ikke leve", "ikke lyst til at (leve|være her)", "ikke leve ~ mere", "vil ikke mere", "ikke lyst til at være her",
        "ikke være her ~ mere", "her ikke i morgen", "færdig med livet", "træt af livet",
        "ende* det", "ender det", "ende* ~ liv*", "gøre en ende på", "afslut* ~ livet",
        "ikke vågne", "sove for altid", "væk for altid", "ingen udvej", "nogen udvej",
        "ikke klar* natten", "ikke ~ klar* natten", "hop* (ud|ned) (fra|af)", "spring* (ud|ned|foran)",
        "hoppe ud", "hænge mig", "hænger mig", "købt reb", "står på (taget|broen|perronen|kanten)",
        "er på broen", "afskedsbrev*", "skrevet ~ brev til ~ (børn*|unger*|drenge*|piger*)",
        "sig* farvel", "^farvel$", "farvel og tak", "farvel ~ (for altid|alle)", "tak for alt", "lede efter mig",
        "pas godt på (børnene|ungerne|drengene|pigerne|dem)", "kommer ikke tilbage",
        "ikke tilbage igen", "ikke se* mig igen",
        "dræb* mig selv", "skyd* mig selv", "ikke værd at leve", "bedre uden mig", "ingen vil savne mig",
        "sidste (besked|gang i hører)", "har en plan", "orker ikke mere", "vil ikke være her",
    )),
    ("piller", "akut", (
        "(taget|tog|slugt|sluge|spist) ~ (alle|mange|masse|hel|hele|pakke|glas|bunke|resten) ~ (piller|pillerne|pil*|tabletter*|panodil*|pamol*)",
        "(taget|tog|slugt|spist) (alle|mange|masse|hele) (piller|pillerne|pil*|tabletter*|panodil*|pamol*)",
        "(slugt|sluge) ~ (piller|pillerne|tabletter*)",
        "(alle|mange) (piller|pillerne|mine piller|tabletter*)", "hel pakke", "overdos*",
        "for mange (piller|tabletter)", "samlet ~ piller", "sovepiller", "emojipills", "(drukket|druk*) ~ piller", "og taget piller",
    )),
    ("selvskade", "akut", (
        "skar* (mig|sig) ~ (selv|i)?", "skåret (mig|sig|i)", "skære* (mig|i mig)", "skærer i",
        "skær* (mig|sig) (i|selv)", "cutter", "bløder (meget|voldsomt|stadig|helt vildt)",
        "stop* ikke med at bløde", "blod* ~ stop* ikke", "emojiblood",
    )),
    ("selvskade", "bekymring", ("skader sig selv", "selvskade*", "mærker på armene")),
    ("vold", "akut", (
        "(slår|slog|slået|slaet|slaar) (mig|os|hende|ham|dem|børnene|ungerne|babyen|barnet|min|mine|vores|mor|far)",
        "(han|hun|far|mor|stedfar|mand|manden|kæresten|eksmand*|eks) (slår|slog|tæver|banker|sparker)",
        "(slår|slog|slaar) igen", "slå* (sit|sin|sine|hans|hendes) (barn|børn|søn|datter|kone|kæreste)", "(slår|slar|sla) og sparker", "blir (slået|slaet|slaaet)", "bliver slået",
        "tæsk*", "tæv*", "bank* (mig|os|hende|ham)", "spark* (mig|os|hende|ham|døren)", "sparkede",
        "kvæl*", "kvælertag", "vold$", "vold (her|hjemme|derhjemme)", "voldelig*", "voldtag*",
        "voldtægt*", "voldsmand", "slå* ~ ihjel", "dræb* (mig|os|dig|hende|ham|ungerne|børnene)",
        "tru* (mig|os|hende|ham|børnene|ungerne)", "tru* med (at|kniv*|vold|tæsk)", "truede", "kniv*", "emojiknife", "pistol*", "gevær*", "våben",
        "kølle", "smadr* ~ (døren|alt|ting|telefon*|tv*|ruden)", "smider med ting", "kaster med ting",
        "kaste* mig", "brænde huset", "låst (mig|os) inde", "låst døren", "(smidt|taget|smadret) min telefon", "væk fra ham", "krisecent*", "låser (mig|os) inde",
        "holder mig fast", "skubbe* mig", "er her igen", "står ~ (udenfor|uden for|nede på|nede ved) ~ (døren|gaden|huset|vinduet)",
        "står (nedenfor|udenfor|uden for)", "på vej (herhen|hertil|hit)", "fundet ud af hvor vi bor",
        "venter på mig", "tør ikke ~ (hjem|være her|gå hjem|tage hjem)", "bange for (ham|min mand|min kæreste|min eks|min far|hans)",
        "bange for at (han|hun) (slår|dræber|gør|kommer)", "bange for at gå hjem",
        "ikke tryg* ~ (hjemme|derhjemme)", "ikke tryg$", "ikke i sikkerhed", "(er|vi er|jeg er) i fare",
        "livsfare", "i livsfare", "gemmer sig", "gemt sig", "gemmer os", "råber efter mig",
        "sende mig til hjemlandet", "gifte mig bort", "tvangs*", "taget mine ~ pas", "tager børnene",
        "har slået", "prygl*", "lussing*", "lussede", "mishandl*", "går amok", "gik amok", "dødstrus*",
        "bange for ham", "han er efter mig", "forfølger mig", "stalker*", "skade* (mig|os|børnene|ungerne)",
    )),
    ("overgreb", "akut", (
        "rør* ved (mig|ham|hende|min|mit|os|børnene|dem)", "rørt* ved", "seksuel* (overgreb|misbrug)",
        "overgreb*", "seksuel*", "misbrug* (mig|min|mit|hende|ham|os|børnene|datter*|søn*)", "befamle*",
        "misbrugt", "rører* ved", "molest*",
    )),
    ("barn", "akut", (
        "forsvund*", "forsvandt", "kan ikke finde (ham|hende|min|mit|vores|drengen|pigen|barnet)",
        "ikke kommet hjem", "ikke været hjem*", "stukket af", "løb* (væk|hjemmefra)",
        "(børnene|ungerne|barnet|ungen|min søn|min datter|drengen|pigen|lillebror|lillesøster|babyen|børn) ~ alene",
        "alene (siden|hele natten|i nat)", "ingen voksne", "taget min (dreng|pige|søn|datter)",
        "har været væk", "er væk$",
        "ved ikke hvor (hun|han|de) er (nu|i nat)", "ikke set (ham|hende) siden", "ikke hjemme endnu", "væk hjemmefra",
    )),
    ("barn", "bekymring", ("alene hjemme",)),
    ("mad", "akut", (
        "ingen mad", "ikke noget mad", "intet mad", "intet at spise", "ikke noget at spise",
        "ikke spist", "ikke fået mad", "sultne", "af sult", "sulter", "mangler mad", "0 kr", "tomt køleskab", "tom køleskab",
        "ikke noget at give (børnene|ungerne|dem)",
    )),
    ("bolig", "akut", (
        "smidt ud", "smider (os|mig) ud", "sat (os|mig) ud", "sat på gaden", "på gaden",
        "ingen steder at (sove|bo|være)", "ikke noget sted at (sove|bo|være)", "intet sted at (sove|bo)",
        "skiftet låsen", "låst ude", "fogeden", "hjemløs*", "sover i bilen", "sove i bilen", "sover udenfor",
    )),
    ("udstyr", "akut", (
        "(ilt*|respirator*|iltapparat*|iltmaskine*|sonde*|insulinpumpe*|dialyse*|maskine*|apparat*|pumpe*) ~ (strøm*|batteri*|virker ikke|i stykker|kører ikke|stoppet|ingen strøm|uden strøm)",
        "(strøm*|elselskab*) ~ (ilt*|respirator*|iltapparat*|sonde*|maskine*|apparat*|pumpe*)",
        "ingen insulin", "(iltapparat*|iltmaskine*|respirator*|ilt maskine*|ilt apparat*)",
    )),
    ("udstyr", "bekymring", ("lukket for strømmen", "lukke for strømmen", "ingen strøm")),
    ("krop", "akut", (
        "svær at vække", "vil ikke vågne", "reagerer ikke", "kan ikke trække vejret",
        "trækker ikke vejret", "bevidstløs", "besvimet", "taler mærkeligt", "krampe*", "helt væk",
        "slået hovedet", "ambulance", "emojiambulance", "112",
        "får ikke luft", "kan ikke få luft", "blå i (hovedet|ansigtet|læberne)", "hjerteanfald", "blodforgiftning",
    )),
    ("hjælp", "akut", (
        "^hjælp$", "^hjelp", "hjelp (mig|os|nu)", "hjælp (mig|os|nu|hurtigt|please|plz|pls)", "please hjælp", "hjælp$",
        "kan (i|du) hjælpe$", "kan (i|du) hjælpe (han|hun|nu)", "kom ~ (hurtigt|nu) ~ hjælp*",
        "kom hurtigt", "sos", "ring ~ (nu|med det samme|hurtigt|asap|straks|omgående)",
        "ringe ~ (hurtigt|asap|straks|nu)", "ring (til|efter) politi*", "ring nu",
        "(meget|virkelig) vigtigt", "akut hjælp", "vær sød at ringe", "kan du ringe nu", "ring tilbage (nu|hurtigt)",
    )),
    ("trivsel", "bekymring", (
        "har det (skidt|dårligt|rigtig skidt|meget dårligt|ikke godt|ikke så godt)", "ikke godt psykisk",
        "græder (hele tiden|meget|hver dag)", "panikanfald*", "angst*", "ensom*", "alene og",
        "kan ikke mere", "orker ikke", "magter ikke", "knækker", "stress*", "ked af det",
        "træt af alt", "sover (ikke|dårligt|næsten ikke)", "ikke sovet", "kan ikke sove",
        "brug for at (snakke|tale)", "ring ~ i dag", "bekymret", "svært ~ (lige nu|derhjemme)",
        "hårdt derhjemme", "spiser ~ (ingenting|ikke)", "tynd",
    )),
    ("penge", "bekymring", (
        "ikke råd til", "har ikke råd", "husleje*", "opsigelse", "rykker", "penge ~ mad",
        "mad ~ (børnene|ungerne)", "sat ud", "miste ~ lejlighed*", "ingen varme", "skimmel",
        "lukke for", "hjælp til mad", "hos (min|en) (søster|bror|ven|veninde) på sofaen",
        "midlertidig*", "mistet mit arbejde",
    )),
    ("familie", "bekymring", (
        "pjæk*", "ikke (været|i|gået) i skole", "vil ikke i skole", "mobbe*", "hash", "drikker",
        "råber", "jaloux", "tjekker min telefon", "vred igen", "slås i klassen", "slår ham hver dag",
        "glemmer at spise", "forvirret", "falder tit", "medicin ~ råd",
    )),
)

# Idioms with a frightening word that are not risk: a hit inside one is void.
BLOCK: tuple[str, ...] = (
    "dø* af (grin|skræk|kedsomhed|træthed)", "død* af (grin|skræk)", "ved at dø af", "døende af",
    "død træt", "dødtræt", "dødssyg* kedelig", "dræbende kedelig*", "slå katten af tønden",
    "slå* op med", "slog op", "slå* mig at", "slog mig at", "det slog mig", "slå* ~ sammen",
    "slå* ~ streg", "slå* sig (på|i)", "slog sig", "slå* (hinanden|hovedet) med puder", "slag i ansigtet",
    "slag i hovedet", "tru* med at (lukke|opsige|slukke|sætte|stoppe|trække)", "for hovedpine", "slå* min tå", "slog min tå", "kniv og gaffel", "skar kage", "skære kage",
    "politi og røvere", "gemmeleg", "slåspil", "hjælp til", "hjælp med", "få hjælp", "søg* hjælp",
    "tak for hjælpen", "hjælpe mig med", "hjælpe os med", "ring i morgen", "ikke mere end",
    "kan ikke mere end", "tak for alt (det|jeres|din)", "alle pillerne som", "er væk i",
    "væk i weekend*", "sover ikke hjemme", "ringe 112 hvis",
)

NEGATORS = ("ikke", "ik", "ikk", "ike", "ikek", "aldrig", "ingen", "intet", "ingenting", "nej", "ej")
NEG_AFTER = ("ikke", "ik", "ikk", "ike", "aldrig")
NEG_AFTER_EXCEPT = ("kun", "bare", "blot", "længere")
# Words that may stand between a verb and its negation ("det haster overhovedet ikke").
NEG_ADVERBS = ("overhovedet", "slet", "egentlig", "vel", "jo", "altså")

# A new subject or conjunction ends the reach of a negation before it.
STARTERS = ("jeg", "han", "hun", "vi", "de", "du", "og", "men", "så", "fordi")

SCOPE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("past", (
        "for * år siden", "for * siden", "for længe siden", "mange år siden", "år siden",
        "sidste (år|uge|måned|vinter|sommer|forår|efterår|jul)", "tidligere", "dengang", "engang",
        "i sin tid", "da jeg var (barn|ung|lille|yngre)", "før i tiden", "i (2010|2015|2016|2017|2018|2019|2020|2021|2022|2023)",
        "er slut", "helt slut", "overstået", "ikke længere", "det er fortid",
        "har det godt nu", "har det fint nu", "nu har jeg det godt", "nu er (alt|det) godt", "går godt nu",
    )),
    ("docref", (
        "i brevet", "jeres brev", "brevet fra", "i brev*", "står der", "der står", "skriver i",
        "i afgørelsen", "afgørelsen", "pjece*", "i jeres", "hvad betyder", "hvad menes",
        "hvad mener (i|du) med", "formularen", "skemaet", "kommunens brev", "fik et brev", "fik brev",
        "fået et brev", "i indkaldelsen", "i rapporten", "partshøring*",
    )),
    ("hypo", ("hvis", "hvad hvis", "i tilfælde", "nogensinde", "en dag")),
    ("question", ("hvem", "hvad", "hvordan", "skal jeg", "hvor")),
    ("topic", (
        "serie*", "film*", "på tv", "i tv", "tv2", "tv serie*", "dokumentar*", "nyhed*", "krimi*", "bog", "bogen", "bøger",
        "roman*", "podcast*", "afsnit*", "netflix", "drama*", "opgave*", "projekt*", "stil om",
        "speciale*", "foredrag*", "undervisning*", "kursus", "spil", "spiller", "spillet",
        "fortnite", "roblox", "minecraft", "ps5", "playstation", "computerspil", "lektie*",
        "tegnefilm*", "forbrydelsen", "arbejd* ~ krisecent*", "akutmodtagelse*", "akuthospital*",
        "akutklinik*", "tandlæge*", "fastelavn", "taekwondo", "håndbold", "fodbold", "karate",
        "boksning", "stævne", "drømte", "drøm", "mareridt", "leger", "legede", "legen", "kat", "katten", "hund",
        "hunden", "pinligt", "politigården", "politistation*",
    )),
    ("police_ok", (
        "fundet", "fandt", "afleveret", "pung*", "cykel*", "taske*", "attest*", "børneattest",
        "straffeattest", "hittegods", "stjålne", "stjålet", "trafik", "alarm*",
    )),
    ("joke", ("haha*", "hehe*", "lol", "emojilaugh", "joke", "spøg*", "for sjov", "jk", "bare for sjov")),
    ("speech", ("sagde", "siger", "skrev", "skriver", "råbte", "truede med")),
)

KEYWORDS: dict[str, tuple[str, ...]] = {
    "STOP": ("stop", "stopp", "afmeld", "frameld", "stop alt"),
    "START": ("start", "tilmeld", "start igen"),
    "OK": ("ok", "okay", "ja", "jep", "jo", "bekræft", "bekræfter", "emojiok"),
    "FLYT": ("flyt", "ombook"),
    "AFLYS": ("aflys", "afbud"),
    "STATUS": ("status",),
}
POLITE = ("tak", "tusind tak", "please", "venligst", "mange tak", "hej")

INTENTS: dict[str, tuple[str, ...]] = {
    "STOP": (
        "stop med at (sende|skrive)", "stop (de|disse) ~ (beskeder|sms*)", "vil ikke (have|modtage) flere",
        "ikke (have|modtage) flere (sms*|beskeder)", "hold op med at (skrive|sende)",
        "lad være med at (sende|skrive)", "fjern mit nummer", "afmeld mig", "frameld mig",
        "slet mit nummer", "stop (sms*|beskeder)", "^stop (tak|nu|please)$",
    ),
    "START": ("tilmeld mig", "send ~ (sms*|beskeder) igen", "må gerne sende ~ igen", "start igen", "skriv* igen til mig"),
    "FLYT": (
        "en anden dag", "en anden tid", "andre tider", "et andet tidspunkt", "ny* (tid|dato)",
        "flytte (mødet|tiden|det|aftalen)", "flyt* (mødet|tiden|aftalen)", "rykke* (det|mødet|tiden)",
        "ryk* (det|mødet)", "rykkes", "ændre (tiden|tidspunktet|dato*)", "udsætte (mødet|det)",
        "i stedet$", "^passer (ikke|dårligt)$", "det passer (ikke|dårligt)$", "(mandag|tirsdag|onsdag|torsdag|fredag|tidspunktet|tiden|dagen) passer (ikke|dårligt)", "passer (ikke|dårligt) (mandag|tirsdag|onsdag|torsdag|fredag|i dag|i morgen|den dag)", "kan vi (tage|ses|mødes) ~ (dag|uge|tid|fredag|mandag|tirsdag|onsdag|torsdag)",
        "næste uge i stedet", "(mandag|tirsdag|onsdag|torsdag|fredag) ~ i stedet",
    ),
    "AFLYS": (
        "kan ikke komme", "kommer ikke", "når det ikke", "ikke nå (det|mødet)", "aflys*", "afbud",
        "må melde afbud", "melde afbud", "er syg", "er sygt", "bliver hjemme", "kan ikke (i dag|i morgen)",
    ),
    "STATUS": (
        "går det med (min|vores|sagen|ansøgning*)", "nyt i (min|sagen|vores)", "sket noget i (min|sagen)",
        "hvor langt er (i|du|sagen)", "hvor står (min|sagen|vores)", "besluttet noget",
        "hvornår (får|hører) jeg (svar|noget)", "er der kommet svar", "sker der med min",
        "min sag (blevet|behandlet)", "sagen ~ behandlet", "afgørelse endnu", "nyt om min",
    ),
    "OK": (
        "^(super|fint|perfekt|fedt|dejligt|godt) ~ (kommer|ses|der)", "^vi kommer", "^jeg kommer", "vi er der",
        "^jeg er der", "det passer (fint|godt|mig|)", "passer (fint|godt|mig)", "^fint ~ ses", "vi ses",
        "^ses$", "^ok ~ ses", "^(ok|okay|ja|jep|yes) ~ (kommer|ses|tak|fint|passer|der)", "^det er fint",
        "fint med mig", "^fint tak", "^aftale$", "^aftalt$", "^perfekt ~ ses", "^perfekt$", "^super$",
        "^ja tak", "^yes vi", "^fint$",
    ),
}
