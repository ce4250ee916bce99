"""Danish, said indirectly: the risk understated, as a farewell or a plan, or described.

How writers who do not name the risk say it ("jeg har givet katten til min
søster", "han har taget drengen med i bilen og han er fuld"), and how second-
language Danish writes the direct phrases ("han slå mig", "slåt"). `lex_da`
adds these to its own phrases; the levels and pattern syntax are the same.
"""

from __future__ import annotations

RISK: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # Round 4 (issue #16): how other writers say the same things — second-language Danish
    # ("han slå mig", "slåt"), the risk said indirectly or as a farewell, elderly and
    # medical emergencies, and threats said in other words.
    (
        "selvmord",
        "akut",
        (
            "træt af at (leve|være til|være her|være i live)",
            "(nemmere|bedre|lettere|bedst|bedste) ~ hvis jeg ~ (ikke var her|ikke er her|ikke fandtes|ikke vågne*|var væk|var død|døde|forsvandt)",  # noqa: E501 (one pattern)
            "ikke vågne* (i morgen|op igen|op mere)",
            "(jeg|han|hun) (siger )?(han |hun )?vil ~ dø (og|nu|snart|i nat|i aften)",
            "^(jeg|han|hun) vil dø$",
            "vil (ikke|ik) (mere|mer)$",
            "orker (jeg )?(ikke|ik) (mere|mer)",
            "kan ikke mere kan ikke mere",
            "(jeg har|har jeg) (lagt )?en plan$",
            "har en plan (for|om) (at dø|hvordan|at gøre det|at ende|at tage)",
            "plan og (en )?dato",
            "det (hele )?(skal )?(slutte|slutter|ende|ender|stoppe|stopper) (i aften|i nat|nu$|her$)",  # noqa: E501 (one pattern)
            "(i aften|i nat) (skal|vil|slutter|ender) det (hele )?(slutte|ende|stoppe)?",
            "(tager|tage|taget|tog) afsked med (os|mig|alle|jer|familien|livet)",
            "afskedsbesked*",
            "jeg (er|var) her (ikke|ik) (mere|mer)",
            "ingen vej ud",
            "så ved (du|i) hvorfor$",
            "du var (altid )?(så )?(sød|god|søde|gode) ved mig",
            "så nogen ved (det|besked)",
            "^(jeg har|har) fået nok( nu)?$",
            "ikke (være|blive) ked af det når",
            "(taget|tage|har|hentet|fundet) (et )?reb (med|ind|frem|klar)",
            "reb (om|rundt om) (halsen|hals*)",
            "reb klar",
            "(pillerne|piller|tabletterne|tabletter) (i hånden|foran mig|klar|parat|ligger klar)",
            "tænker ~ (på at dø|på døden|på selvmord|på at tage mit liv|på at slå mig selv ihjel)",
            "holde* øje med mig (i nat|i aften|nu)",
            "nogen (holder|holde|kan holde|skal holde) øje med mig",
            "stoler ikke på mig selv",
        ),
    ),
    (
        "piller",
        "akut",
        (
            "(taget|tog|tage|slugt|sluge|spist|drukket) ~ (alle|mange|masse|hele|resten af) ~ (*piller|piller*|tabletter*|lykkepiller|sovepiller|smertepiller|nervepiller|panodil*|pamol*|ipren*|kodimagnyl|stesolid|morfin*|medicin*)",  # noqa: E501 (one pattern)
            "(lykkepiller|smertepiller|nervepiller|sovepillerne)",
        ),
    ),
    (
        "selvskade",
        "akut",
        (
            "barberblad*",
            "gøre (sig|mig|ham|hende) selv (fortræd|skade|ondt)",
            "gør (sig|mig) selv (fortræd|skade|ondt)",
            "stemmer der siger",
            "skære* i (mig|sig) (selv )?igen",
        ),
    ),
    (
        "vold",
        "akut",
        (
            "(han|hun|mand|manden|far|mor|kæreste*|eks*|stedfar|bror|svoger|svigerfar) ~ (slå|slåe|slåt|slaa|slog|slår|slåed|slåede|slåde) (mig|os|hende|ham|børnene|ungerne|barnet|babyen|dem)",  # noqa: E501 (one pattern)
            "(har|blev|bliver|blir) (slåt|slaet|slået|slåed|slåede|slaat) (mig|os|hende|ham|børnene|ungerne|barnet|babyen|dem)",  # noqa: E501 (one pattern)
            "(slåt|slåede|slaat) (mig|os|hende|ham)",
            "bløder fra (næse*|mund*|hoved*|pande*|øre*)",
            "(kastede|kaster|kastet|smed|smider|skubbede) (ham|hende|mig|os|barnet|babyen|den (lille|mindste)) ~ (ind i|mod|ned ad|ned|gennem|i gulvet|i væggen)",  # noqa: E501 (one pattern)
            "(tog|tager|taget|greb|griber) fat i (den lille|den mindste|barnet|babyen|drengen|pigen)",  # noqa: E501 (one pattern)
            "(vil|skal) gøre noget ved (drengen|pigen|barnet|børnene|ungerne|babyen|mig|os|hende|dem)",  # noqa: E501 (one pattern)
            "(vil|skal) gøre (mig|os|hende|ham|dem|børnene|ungerne|barnet|babyen) noget",
            "gør* (drengen|pigen|barnet|børnene|ungerne|babyen|hende|ham|dem) (noget|fortræd|skade)",  # noqa: E501 (one pattern)
            "(så|ellers) er (jeg|du|vi|hun|han) (død|døde|færdig)$",
            "(han|hun|de) (har )?låst (mig|os) ude",
            "(sætter|sætte|sat|sætte*) ild (til|på)",
            "tænde* ild (til|på)",
            "brænde* (lejligheden|huset|det hele|os|mig) (af|ned|inde)",
            "(bryde|bryder|brød) (døren|vinduet|ruden|låsen) (op|ned|ind)",
            "(prøver|forsøger|prøvede) at (bryde|komme|tvinge sig|sparke sig) ind",
            "(hiver|hev|rusker|ruskede|river) i (dørhåndtaget|døren|håndtaget)",
            "vil (ikke|ik) lade (hende|mig|os|ham|dem|børnene|ungerne) (gå|komme|tage|forlade)",
            "(lader|lod) (mig|hende|os|ham|dem) (ikke|ik) (gå|komme)",
            "(børnene|ungerne|dem|barnet|drengen|pigen|min søn|min datter) ~ ud af landet",
            "bortfør*",
            "(rører|rørte|befamler|befamlede) (hende|ham|mig|pigen|drengen|min datter|min søn|barnet|børnene|ungerne)",  # noqa: E501 (one pattern)
            "værelse om natten",
            "(han|hun|eks*|manden|kæresten) står ~ (gården|garden|opgangen|trappen|vinduet|parkeringspladsen)",  # noqa: E501 (one pattern)
            "kommer (op|tilbage|igen) ~ (når lyset|i nat|når børnene sover|når i sover)",
            "^hjælp (han|hun|de|manden|min)",
            "(og|der|som|han|hun) holder øje med (os|huset|lejligheden|vinduerne)",
            "kan (ikke|ik) få (det|blodet) til at stoppe",
            "kan (ikke|ik) beskytte (mine|børnene|ungerne|mig|os|dem|hende|ham)",
            "(han|hun|manden|far|mor|kæresten|eks*) (er )?(fuld|beruset|stiv|påvirket|skæv) ~ (bil*|kører|køre|rattet)",  # noqa: E501 (one pattern)
            "(bil*|kører|køre|rattet) ~ (han|hun) er (fuld|beruset|stiv|påvirket|skæv)",
            "(kører|køre|kørt) ~ (fuld|beruset|spritkørsel|påvirket)",
            "(låst|låser|låste) (mig|os) (inde )?(på|i) (badeværelse*|toilet*|wc|soveværelse*)",
            "(han|hun) (har )?låst sig inde",
            "(råber|råbte|kalder|kaldte|kalde) ~ (om hjælp|svagt)",
        ),
    ),
    (
        "barn",
        "akut",
        (
            "(lille|lillebitte|den lille|den mindste|toårige|treårige|baby|spædbarn*) ~ alene (hjemme|i lejligheden|i bilen)",  # noqa: E501 (one pattern)
            "(vandret|gået|løbet) (væk|hjemmefra) fra (plejehjem*|afdelingen|hospitalet|bostedet)",
            "kun (nattøj|nattøjet|pyjamas|undertøj|bleen) på",
            "(demens|dement) ~ (væk|forsvundet|vandret|ude alene)",
        ),
    ),
    (
        "mad",
        "akut",
        (
            "hverken ~ (mad|at spise)",
            "(ingen|ikke haft|ikke fået) (mad|varme|vand) ~ i (2|3|4|5|to|tre|fire|fem|flere) (dage|døgn)",  # noqa: E501 (one pattern)
        ),
    ),
    (
        "bolig",
        "akut",
        (
            "(må|skal|kommer til at|kan kun) sove (ude|udenfor|på gaden|i en opgang|i opgangen|på en bænk)",  # noqa: E501 (one pattern)
            "sover ude i nat",
            "(ikke|ingen) (er )?plads (på|i) (herberg*|forsorgshjem*|natvarmestue*)",
            "herberg* ~ (ikke plads|fuldt|lukket|ingen plads)",
        ),
    ),
    (
        "udstyr",
        "akut",
        (
            "(i stykker|virker ikke|ødelagt) ~ (insulin*|ilt*)",
            "insulin* ~ (i stykker|ødelagt|for varm*|dårlig|udløbet|løbet tør)",
            "(mangler|løbet tør for|ikke mere|ingen) insulin*",
        ),
    ),
    (
        "krop",
        "akut",
        (
            "kan (ikke|ik) (ånde|trække vejret|få vejret)",
            "(svært|svaert) ved at ånde",
            "får ikke vejret",
            "(trykker|trykken|smerter|smerte) i brystet",
            "brystsmert*",
            "(ikke kan|kan ikke|kan ik) komme op (fra|af) (gulvet|sengen|badekarret|jorden)",
            "faldet og ~ (kan ikke|ikke kan|kan ik) ~ op",
            "(han|hun|mor|far|farmor|mormor|morfar|farfar) ligger på gulvet",
            "allergisk (reaktion|chok)",
            "anafylak*",
            "(hæver|hævet|hæve) ~ (i halsen|i svælget|tungen|læberne|op i ansigtet)",
            "ikke åbnet (døren|op) ~ i (2|3|4|5|to|tre|fire|fem|flere|mange) dage",
            "det er (virkelig|meget|rigtig|helt) alvorligt",
            "ring ~ hurtigst",
        ),
    ),
    (
        "brand",
        "akut",
        (
            "gasudslip",
            "gaslæk*",
            "siver gas",
            "(tror|tror at) der er (gas|ild|brand|røg)",
            "det lugter ~ gas",
            "lugter (af )?gas",
            "gas i (køkkenet|lejligheden|huset|opgangen) ~ lugter",
            "røg (kommer|siver|vælter) (ud|ind|under|fra)",
        ),
    ),
    (
        "trivsel",
        "bekymring",
        (
            "hader mig selv",
            "holder (ikke|ik) til ~ (længere|mere|det her)",
            "ikke sovet i (2|3|4|5|to|tre|fire|fem|flere) (døgn|nætter|dage)",
            "hører stemmer",
        ),
    ),
    ("barn", "bekymring", ("hjemmepleje* ~ ikke (kommet|været|dukket op)",)),
    (
        "trivsel",
        "bekymring",
        (
            "(føler mig|er) (så |lidt |meget |helt )?(alene|nede|deprimeret|trist|tom)",
            "nede for tiden",
            "(har haft|har) det svært",
            "(lidt|alt for|for) meget for mig",
            "urolig for (ham|hende|min|mit|mine|dem)",
            "skændes (hele tiden|hver dag|meget)",
            "går ud over (børnene|ungerne|barnet)",
            "græder hver*",
            "(vågner|vågnede) og (skriger|græder)",
            "glemmer mere og mere",
            "glemte at slukke (komfuret|ovnen|kogepladen)",
            "sidder (på værelset|inde|derinde) hele (dagen|tiden)",
            "taler (ikke|ik) med nogen",
            "ar på (hans|hendes|min|mine|sine|sin) ~ arm*",
        ),
    ),
    (
        "penge",
        "bekymring",
        (
            "(pengene|penge) (rækker|slår) (ikke|ik) til",
            "(pengene|penge) (slipper|løber) op",
            "(løber|løbet) tør for penge",
            "regning* ~ hober sig op",
            "tør (ikke|ik) åbne (posten|brevene|e boks|eboks)",
        ),
    ),
    # Round 5: the new writers — a farewell or a plan said in passing, a child in danger
    # described by a neighbour or a relative, a threat quoted, thrown out tonight.
    (
        "selvmord",
        "akut",
        (
            "har sagt farvel til",
            "(sagde|sagt) farvel og (lagde på|slukkede)",
            "^eller (aldrig|nogensinde) (mere|igen)?$",
            "(ikke|ik) (at )?(jeg|han|hun) (er|bliver) her (i morgen|længe|mere)",
            "bliver (ikke|ik) her (længe|meget længere)",
            "vil bare (ikke|ik) (mere|mer)",
            "undskyld til (alle|jer alle|børnene|ungerne|min familie)",
            "(skal|må) (ikke|ik) lede efter (mig|ham|hende)",
            "forsvind* for altid",
            "sig (det )?til (dem|børnene|ungerne|drengene|pigerne) fra mig",
            "pas (godt )?på (pigerne|drengene|børnene|ungerne|dem|ham|hende) for mig",
            "(skrevet|skrev|sagt|sagde) at jeg skal passe (godt )?på",
            "ved (ikke|ik) (helt )?hvorfor jeg skriver",
            "(en byrde|til besvær|til last) for (alle|jer|dem|andre|min familie)",
            "(er|være|føler mig som) en byrde",
            "(får|har|vil få|ville få) det bedre (uden mig|når jeg er væk)",
            "hængt (sig|et reb)",
            "(taget|tage|tog|har|hentet|fundet|købt) (et )?(reb|tov) (med|ind|frem|klar)",
            "(hop*|spring*) (ud |ned )?(fra|af) (taget|tag|broen|bro|altanen|altan|vinduet|skolen|p huset)",  # noqa: E501 (one pattern)
            "(han|hun|jeg) (springer|hopper) (hvis|nu|ud|ned)",
            "(er|står|sidder) (oppe )?på taget",
            "(ude |ud )?på (skinnerne|sporet|togsporet)",
            "køre* (ind i|ud i) (et træ|en mur|muren|vandet|havnen|søen|en lastbil)",
            "(søgt|søger|googlet|googler) (på )?(hvordan man|måder at) (dør|dø|tager sit liv|slår sig selv ihjel)",  # noqa: E501 (one pattern)
            "(hvor mange|hvor meget) (piller|pamol|panodil|tabletter|sovepiller|paracetamol) ~ (for mange|dødelig*|dør man|slår ihjel)",  # noqa: E501 (one pattern)
            "stemme* (siger|sagde) (at )?(han|hun|jeg) skal",
            "(tænkt|tænker|tænkte) (meget )?på (broen|toget|skinnerne|sporet|taget|pillerne|rebet|at springe|at hoppe|at forsvinde)",  # noqa: E501 (one pattern)
            "(gider|gad) (ikke|ik) (leve|at leve)",
            "(ikke|ik) gider (leve|at leve)",
        ),
    ),
    (
        "piller",
        "akut",
        (
            "(taget|tog|slugt|spist) (hele|et helt) (glasset|pakken|æsken|boksen|kortet|pilleglasset)",  # noqa: E501 (one pattern)
            "(taget|tog|slugt|spist) * (af mine|af hans|af hendes|af de) (piller|tabletter|sovepiller)",  # noqa: E501 (one pattern)
            "(talt|tæller|talte|tællet) ~ (piller|pillerne|tabletter*|sovepiller)",
            "(pilleglasset|pilleglas|pillerglasset|pakken med piller) ~ (tom|tomt)",
            "(taget|tog|slugt|spist) ~ sovemedicin*",
            "(slugt|sluget|sluge) ~ (batteri*|magnet*|piller|pillerne|tabletter*|medicin*|klor*|afløbsrens|rensemiddel|opvaskemiddel|sæbe)",  # noqa: E501 (one pattern)
            "puttet (noget )?i (hendes|hans|min|mit) (drink|glas|drikke*)",
        ),
    ),
    (
        "vold",
        "akut",
        (
            "smadr* (stuen|lejligheden|huset|køkkenet|møblerne)",
            "låst (mig|os) og (børnene|ungerne|de små|babyen|drengene|pigerne) inde",
            "låst (vores|min|mit|hans|hendes|sin|sit) (datter|søn|barn|dreng|pige|baby) inde",
            "(fat|tag) i (min|hendes|hans) hals*",
            "brænd* ~ af med (mig|os|børnene|ungerne|dem) i",
            "(hældt|hælder|hældte) (benzin|sprit|tændvæske)",
            "(kaste|smide) (vores|min|mit|den lille|barnet|babyen|hende|ham) ~ (ned|ud) (fra|af|ad|gennem)",  # noqa: E501 (one pattern)
            "(vil|skal|kommer til at) (smadre|kvæle|dræbe|skyde|stikke) (mig|hende|os|ham|dem|børnene|ungerne)",  # noqa: E501 (one pattern)
            "(han|hun|eks*|manden|kæresten) (har )?brækket (min|mit|mine)",
            "(han|hun|eks*|manden|kæresten) ved hvor (jeg|vi|hun) bor",
            "(aldrig|alrig) (ser|se|får at se) (dem|hende|ham|børnene|ungerne|drengene|pigerne) igen",  # noqa: E501 (one pattern)
            "(ser|se) (dem|hende|ham|børnene|ungerne) (aldrig|alrig) igen",
            "(taget|tog|tager) (pas|passet|passene|telefonen|min telefon|nøglerne|mine nøgler) ~ fra mig",  # noqa: E501 (one pattern)
            "vil (ikke|ik) lukke (hende|mig|os|ham) ud",
            "(rystet|rystede|ryster|ruskede|rusket) (babyen|barnet|den lille|spædbarnet)",
            "brændemærke*",
            "voksen mand ~ (nettet|online|mødt|henter|skriver)",
            "(skrig|skrål|brag|bump|råb) ~ (helt )?stille",
            "drukket ~ (og|men) ~ (kører|kørt|køre|bag rattet)",
            "kørt* ~ (han|hun) er (fuld|stiv|beruset|påvirket|skæv)",
        ),
    ),
    (
        "barn",
        "akut",
        (
            "(de små|de to små|mine små) ~ alene",
            "alene (hjemme )?(hele natten|om natten|i nat)",
            "(sover|er|været) alene (derhjemme|i lejligheden)",
            "alene (hjemme )?med (min )?(lillebror|lillesøster|babyen|de små)",
            "alene (nede )?ved (søen|vandet|havnen|åen|stranden)",
            "(ikke|ik) (kom|kommet) hjem",
            "(kom|kommet) (ikke|ik) hjem",
            "ingen har set (ham|hende|dem|drengen|pigen)",
            "(ikke|ik) vågnet (siden|op)",
            "(mor|far) vågn op",
            "i bare (tæer|trusser|strømper|undertøj|bleen)",
            "(står|sidder|kravlet) (oppe )?(i|på) vindueskarm*",
            "ud på isen",
        ),
    ),
    (
        "mad",
        "akut",
        (
            "ikke (mere|flere) (mad|mælk|modermælkserstatning|erstatning|bleer)",
            "intet (mad )?til (i aften|aftensmad|børnene|ungerne)",
            "ikke (fået|haft|spist) (ordentlig|ordentligt|rigtig|rigtigt|noget) (mad|at spise)",
        ),
    ),
    (
        "bolig",
        "akut",
        (
            "(smed|smidt|smide|smit) (os|mig|hende|ham|dem) ud (kl|nu|i nat|i aften|og|af lejligheden|af huset|hjemmefra)",  # noqa: E501 (one pattern)
            "(kæresten|kæreste|min far|min mor|manden|min mand|udlejer*|stedfar|eks*) ~ (smed|smidt|smide|smit) (os|mig) ud",  # noqa: E501 (one pattern)
            "blevet (smidt|smit|sat) ud",
            "står på gade",
            "hvor (kan |skal )?(vi|jeg) (skal )?sove",
            "ved (ikke|ik) hvor (vi|jeg) skal (hen|sove|være|bo)",
            "ingen steder at tage hen",
            "skift* låsen",
        ),
    ),
    (
        "krop",
        "akut",
        (
            "kunne (ikke|ik) trække vejret",
            "trækker vejret (så |helt |meget )?(mærkeligt|underligt|hvæsende|tungt|besværet)",
            "svarer (ikke|ik) (ordentligt|rigtigt)",
            "rører sig (ikke|ik)",
            "kan (ikke|ik) få (ham|hende|mor|far) op",
            "insulinchok",
            "(har|fået|i) føling",
            "astma* ~ anfald",
            "(meget|masser af|så meget) blod",
        ),
    ),
    (
        "hjælp",
        "akut",
        ("det er (blevet )?(slemt|skidt|galt) (nu|igen)?$",),
    ),
)
