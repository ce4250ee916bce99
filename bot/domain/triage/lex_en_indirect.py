"""English, said indirectly: the risk described or understated, and idioms that only look
frightening.

How writers who do not name the risk say it ("I've made my decision and I'm at peace
with it", "no one has collected Amira", "his brother's just turned up with a baseball
bat"), and the everyday words that only sound like it ("emergency repairs", "went
missing for an hour … but we found her"). `lex_en` adds these to its own phrases,
idioms, scope words and intents; the levels and pattern syntax are the same.
"""

from __future__ import annotations

RISK: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # Round 7 (r7daen): a plan or a farewell said in passing, a place or a means, a child
    # nobody collected, a threat said in other words, a body that is not right.
    (
        "suicide",
        "akut",
        (
            "(dont|dnt) (really |even |actually )?(want|wnt|wanna|wana) (to |2 )?(be|b) (here|alive|around)",  # noqa: E501 (one pattern)
            "(made|make|making) (my|the) decision ~ (at peace|for the best|sorry)",
            "at peace with (it|my decision|this|that)",
            "note ~ (says|saying|said) (zqz )?(sorry|goodbye|i love)",
            "(pills|meds|tablets) (are|have|have all) gone and",
            "(thinking|think|thought) about (driving|jumping|stepping|walking|throwing myself) (into|off|in front|under)",  # noqa: E501 (one pattern)
            "driv* (into|off) (a|the) (wall|tree|bridge|river|lake|sea|cliff|lorry|truck)",
            "talk me out of (it|this)",
            "(shes|hes|she is|he is) (going|gonna) (to )?do it (tonight|tomorrow|today|now)",
            "(dont|cant) trust myself (tonight|right now|anymore|alone|around)",
            "(dont|cant) trust myself$",
            "(bath|bathroom) with (a|the|my) (razor|blade|knife)",
            "who (gets|would get|will get|takes|would take|will take|looks after|will look after) my (kids|children|son|daughter|baby) if",  # noqa: E501 (one pattern)
            "(getting|gets|got) easier to think about",
            "(trains|train) keep (going|coming|passing) (past|by)",
            "(wont|will not) be around (anymore|any more|much longer)",
            "(itll|it will|its going to) be easier for everyone (from|after|when|without|if i)",
            "(looking up|looked up|been looking up) ways to (die|kill|end)",
            "did (a thing|something) with (my|the|her|his) (meds|pills|tablets)",
        ),
    ),
    (
        "pills",
        "akut",
        (
            "(paracetamol|panadol|pills|tablets|painkillers) to (work|kick in) if (you|i) take",
            "(got|gotten|getting) into (my|her|his|the|mums|grandmas|nans) (tablets|pills|meds|medicine)",  # noqa: E501 (one pattern)
        ),
    ),
    (
        "violence",
        "akut",
        (
            "(put|punched|smashed|kicked) (his|her|a|their) (fist|hand|head|foot) through",
            "(turned|turning|showed|shown) up with a (baseball )?bat",
            "(with|holding|carrying) a baseball bat",
            "threaten* (my|his|her|our|the) (sister|mother|mum|mom|wife|girlfriend|partner|kids|children|son|daughter|baby|brother)",  # noqa: E501 (one pattern)
            "(none of us|we wont|we will not|you wont|the kids wont|none of you) ~ (see|live to see|make it to) (christmas|tomorrow|the morning|another|new year)",  # noqa: E501 (one pattern)
            "in the car and (hes|shes|he|she) (has |is )?(been )?(drinking|drunk)",  # noqa: E501 (one pattern)
            "(man|guy|lad|bloke|someone|stranger|adult) (she|he|i|they) met online",
            "sending a car for (me|her|him)",
            "went off with (a|some) (man|lad|guy|stranger|bloke) and (didnt|hasnt|never|not)",
            "(gone|run|ran|going) off with (a|some|an|this) (man|lad|guy|stranger|bloke|older)",  # noqa: E501 (one pattern)
            "(got|get|getting) in(to)? a car with (a|some|an|this) (man|stranger|guy|bloke|lad)",
            "locked (me|us|the kids|her|him|them) out and (its|it is) (freezing|cold|dark|\\d+)",
            "suddenly ~ (quiet|silent)$",
            "(keeps|kept) turning up (at|outside) (the school|school|nursery|our door|the door|the house)",  # noqa: E501 (one pattern)
        ),
    ),
    (
        "child",
        "akut",
        (
            "(no one|nobody|noone) (has |have )?(collected|picked up|come for) (\\w+ )?(\\d+|him|her|them|the kids|the children)$",  # noqa: E501 (one pattern)
            "(didnt|did not|hasnt|has not|havent) come back (last night|yesterday|home|since)",
            "(still here|outside|been here|waiting) on (his|her|their) own",
            "on (his|her|their) own all (day|night|weekend)",
            "home on (his|her|their) own (all|since)",
            "outside since (school|this morning|lunch|\\d+)",
            "(only|just) in (his|her|their|a) (slippers|pyjamas|pajamas|nappy|underwear|socks|nightie|nightdress|dressing gown)",  # noqa: E501 (one pattern)
            "(balcony|doorstep|stairs) (in|wearing) (their |his |her )?(pyjamas|pajamas|nappy|nappies)",  # noqa: E501 (one pattern)
            "(mum|mom|dad|mummy|mommy|daddy|mother|father) (isnt|is not|wasnt) answering the door",
            "please send (someone|somebody) (now|asap|quickly|$)",
        ),
    ),
    (
        "body",
        "akut",
        (
            "breathing (is )?(all )?(rattly|raspy|rattling|weird|strange|funny|wrong|noisy|fast|shallow)",  # noqa: E501 (one pattern)
            "(wont|will not) feed",
            "(sugar|blood sugar|bloods|levels?) (is|are|of|at) (1|2)$",
            "(drank|drink|drunk|swallowed|ate) something from (the|a) bottle",
            "hard to wake",
        ),
    ),
)

# Everyday words that only look frightening; a hit inside one is void.
BLOCK: tuple[str, ...] = (
    # Round 7: an emergency repair, a child who went missing for an hour and was found, a
    # nosebleed a coach says is fine, a pipe burst.
    "emergency (repair*|housing|payment*|loan|grant*|appointment*|dentist|plumber|fund*|fix|callout|call out|electrician|locksmith)",  # noqa: E501 (one pattern)
    "went missing for (a|an|half an|about an|a few|five|ten|\\d+) (hour|hours|min*|moment|bit|second*)",  # noqa: E501 (one pattern)
    "(nosebleed|nose bleed|bloody nose) ~ blood",
)

SCOPE: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "past",
        (
            "(was|were|got|been|is) put out",
            "says (hes|shes|he is|she is|theyre|they are) (totally|completely|absolutely) fine",
        ),
    ),
)

INTENTS: dict[str, tuple[str, ...]] = {
    "STOP": (
        "^unsubscribe",
        "discontinue ~ (sms|messages|texts|notifications|reminders)",
        "opt (me )?out",
    ),
    "FLYT": (
        "(push|move|bump|shift) (the|our|my|it|this) ~ (to|back|till|until) (the week after|next|another|a later|later)",  # noqa: E501 (one pattern)
        "the week after instead",
    ),
    "OK": (
        "i (shall|will) (attend|be attending)",
        "noted with thanks",
        "as planned (is fine|works|is good|then|please)",
    ),
}
