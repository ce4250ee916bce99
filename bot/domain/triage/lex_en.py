"""English: risk phrases, idioms that are not risk, scope words, intents (see lex_da)."""

from __future__ import annotations

LANG = "en"

RISK: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("suicide", "akut", (
        "suicid*", "kill myself", "kill my self", "end* my life", "end* it (all|tonight|now)", "end it$",
        "end* things", "want* to die", "wanna die", "wish i was dead", "wish i were dead", "better off dead",
        "dont want to (live|be alive|be here)", "dont wanna (live|be here)", "no point (living|in living)",
        "dont see the point", "cant go on", "cant do this anymore", "going to jump", "gonna jump", "jump off",
        "(have|got|bought) a rope", "hang myself", "take my own life", "take my life", "not be here tomorrow", "dont think ill be here",
        "be here tomorrow", "say* goodbye", "this is goodbye", "goodbye (everyone|all|forever)",
        "thank you for (trying|everything)", "sleep forever", "not wake up", "never wake up",
        "dont want to wake up",
        "not worth living", "better off without me", "nobody (would|will) miss me", "final goodbye", "last message",
        "end my own life", "take my own life",
    )),
    ("pills", "akut", (
        "(took|taken|swallowed|take) ~ (pills|tablets|overdose|bottle)", "overdos*", "od ed", "all my (pills|meds)",
        "sleeping pills",
    )),
    ("selfharm", "akut", (
        "cut* (myself|herself|himself)", "self harm*", "selfharm*", "wont stop bleeding", "bleeding (a lot|badly|heavily)",
    )),
    ("violence", "akut", (
        "(hit|hits|hitting|beat|beats|beating|kicked|kicks|punched|punches|choked|chokes|strangl*|hurts|hurt|hurting) (me|us|her|him|the kids|my|them|the baby)",
        "beat me", "beaten", "beating me", "abus* (me|us|the kids|my|her|him)", "abusing", "violent", "violence$",
        "threaten* (to|me|us)", "threatened", "kill (me|us|you|the kids|her|him)", "will kill", "(knife|gun|weapon)",
        "with a knife", "has a (knife|gun)", "outside (the|my) (door|house|flat|window)", "is outside",
        "on his way", "on (his|her|their) way here", "coming (here|over) ~ (angry|drunk|furious|kill)",
        "found our address", "locked (us|me) in", "took my phone", "smashed", "not safe", "in danger",
        "scared for my life", "afraid (of him|he will)", "scared (of him|he will)", "kids are hiding", "hiding under",
        "raped", "rape", "touch* (me|my|her|him|them) ~", "touches", "molest*", "sexual*", "strangling", "choking",
        "slapped (me|her|him)", "punched (me|her|him)", "assault*", "attacked (me|us)", "death threat*",
        "scared of him", "afraid for my life", "bruises", "threatening (me|us|to)", "going to hurt",
    )),
    ("child", "akut", (
        "missing", "ran away", "run away", "hasnt come home", "didnt come home", "not come home",
        "(kids|children|toddlers|baby|son|daughter) ~ alone", "left alone", "home alone", "cant find (my|him|her)", "disappeared", "hasnt come back", "not back yet", "dont know where (he|she) is",
    )),
    ("food", "akut", (
        "no food", "nothing to eat", "havent eaten", "hasnt eaten", "not eaten", "starving", "hungry", "empty fridge",
    )),
    ("housing", "akut", (
        "kicked out", "thrown out", "evicted (today|tonight|now)", "being evicted", "homeless", "nowhere to (go|sleep|stay)",
        "on the street", "sleeping in (the|my) car", "on the streets",
    )),
    ("equipment", "akut", (
        "(oxygen|ventilator|machine|pump|insulin) ~ (stopped|power|battery|broken|off)",
        "(power|electricity) ~ (oxygen|ventilator|machine|pump)", "ventilator", "oxygen (machine|concentrator|tank)", "(power|electricity) (cut|off|outage|went off|is off|gone)",
    )),
    ("body", "akut", (
        "barely breathing", "not breathing", "cant breathe", "unconscious", "wont wake up", "passed out",
        "arm is broken", "broken arm",
    )),
    ("help", "akut", (
        "^help$", "help me", "help us", "please help", "need help (now|right now|asap)", "help$",
        "call me (now|asap|right now|back|immediately)", "call (now|asap)", "emergency", "urgent$", "^urgent",
        "call the police", "call 911", "sos", "please call (me|now)", "call me please", "need you to call",
    )),
    ("wellbeing", "bekymring", (
        "struggling", "hard time", "not coping", "anxiety", "anxious", "depress*", "lonely", "alone and",
        "tired all the time", "cant sleep", "someone to talk to", "call me today", "ring today", "things are hard",
        "worried about", "cries every", "barely eats", "stays in (her|his) room", "bullied",
    )),
    ("money", "bekymring", (
        "running out of (money|food)", "money is tight", "food runs out", "cant afford", "eviction notice",
        "have to leave by", "no heating", "freezing",
    )),
    ("family", "bekymring", ("skipping school", "hasnt been to school", "yells", "shouts", "drinks a lot")),
)

BLOCK: tuple[str, ...] = (
    "died laughing", "dying (to|of)", "die laughing", "killing me", "killed it", "killing each other",
    "kill me now", "cops and robbers", "emergency (room|medicine|services)", "in an emergency",
    "police check", "call me back when", "help with", "help me with", "for (your|the|all your) help", "thanks for ~ help", "with your help",
)

NEGATORS = (
    "not", "no", "never", "nothing", "nobody", "noone", "none", "isnt", "arent", "wasnt", "werent",
    "dont", "doesnt", "didnt", "wont", "nor", "without", "hasnt", "havent",
)
NEG_AFTER: tuple[str, ...] = ()
NEG_AFTER_EXCEPT: tuple[str, ...] = ()
NEG_ADVERBS: tuple[str, ...] = ()

# A new subject or conjunction ends the reach of a negation before it.
STARTERS = ("i", "he", "she", "we", "they", "you", "and", "but", "so", "because")

SCOPE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("past", (
        "ago", "last (year|week|month|summer|winter|spring|autumn)", "years back", "back in", "in the past",
        "used to", "when i was (a kid|young|little|younger)", "long time ago", "back then", "anymore",
        "safe now", "all good now", "doing better", "doing much better", "much better now", "in recovery", "gone now",
        "in (2015|2016|2017|2018|2019|2020|2021|2022|2023)",
    )),
    ("docref", (
        "the letter", "your letter", "letter says", "the report", "the form", "what does", "what do you mean",
        "mean by", "it says", "says (that|on)", "mentions",
    )),
    ("hypo", ("if", "what if", "in case", "ever", "should it", "later")),
    ("question", ("who", "what", "how", "should i", "where")),
    ("topic", (
        "show", "series", "movie", "film", "documentary", "news", "book", "novel", "project", "homework",
        "essay", "game", "episode", "netflix", "breaking bad", "horror", "street", "lane", "road", "avenue",
        "prevention", "works in", "works at", "dental", "dentist", "feet",
    )),
    ("police_ok", ("found", "returned", "wallet", "bike", "stolen", "check", "phone back")),
    ("joke", ("lol", "haha*", "emojilaugh", "jk", "joke", "kidding", "nah jk", "lmao")),
    ("speech", ("said", "says", "told me", "wrote", "yelled")),
)

KEYWORDS: dict[str, tuple[str, ...]] = {
    "STOP": ("stop", "unsubscribe", "stopall", "stop all", "quit", "end"),
    "START": ("start", "subscribe", "unstop"),
    "OK": ("ok", "okay", "yes", "yep", "yeah", "confirm", "confirmed", "sure"),
    "FLYT": ("reschedule", "move"),
    "AFLYS": ("cancel", "cancelled"),
    "STATUS": ("status",),
}
POLITE = ("please", "pls", "plz", "thanks", "thank you", "thx", "hi")

INTENTS: dict[str, tuple[str, ...]] = {
    "STOP": (
        "stop (sending|texting|messaging)", "no more (messages|texts|sms)", "dont want (these|any|your) (messages|texts)",
        "remove me", "dont (text|message) me", "unsubscribe me", "^stop please", "^please stop",
    ),
    "START": ("(text|message) me again", "start again", "resume (messages|texts)", "subscribe me"),
    "FLYT": (
        "another (day|time)", "reschedule", "move (it|the meeting|the appointment)", "change the (time|date|day)",
        "next week instead", "doesnt work", "different (day|time)", "new time",
    ),
    "AFLYS": (
        "cant (make it|come)", "wont (make it|come)", "cancel", "not coming", "cant attend", "wont be able to come",
        "need to cancel", "have to cancel", "^im sick",
    ),
    "STATUS": (
        "news on my", "update on my", "happening with my", "my (case|application) going", "decision (been made|yet)",
        "heard anything", "any news$", "status of my",
    ),
    "OK": (
        "^(ok|okay|yes|great|perfect|sounds good|fine) ~ (see|there|come|works|good|then)", "see you (then|there|on)",
        "well be there", "we will (come|be there)", "ill be there", "that works", "sounds good", "^great$",
        "^perfect$", "^confirmed", "see you$",
    ),
}
