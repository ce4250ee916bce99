"""What an afgørelse sounds like in Ukrainian and Arabic, and what makes such words not one.

A caseworker may write to a Ukrainian or Arabic family in their language (the
reply templates exist in uk and ar). The cues and scopes here follow the Danish
ones of :mod:`bot.domain.guard.lexicon` and carry the same names, so ``why``
reads the same to the caseworker and a Danish scope that names a cue (a
negation of a stop, a practical arrangement for "besluttet") also governs the
Ukrainian or Arabic cue of that name.

Written against the normal form of :mod:`bot.domain.guard.text`: lower case
(Cyrillic too); Arabic with one alef (أ إ آ → ا), ى → ي, ة → ه and no vowel
marks, so "على" is written "علي" and "إعانة" "اعانه" here. Arabic attaches
prefixes (ال، و، ف، ب، ل، س) to the word, so its stems are matched with ``\\w*``
in front where a prefix may stand; a definite noun ("الرفض", the refusal) talks
*about* a decision like Danish "afslaget" and is not a cue. A decision announced
in the passive ("У вашій справі ухвалено рішення", "تم اتخاذ قرار": the
system's own milestone text) is not one either; "ми ухвалили рішення" /
"اتخذنا قرارا" (we decided, and what follows) is.
"""

from __future__ import annotations

from bot.domain.guard import lexicon
from bot.domain.guard.lexicon import Cue, _cue
from bot.domain.guard.scopes import Scope, _scope

# Benefits and services (uk stems; ar stems with any prefix).
BENEFIT = (
    r"(допомог\w*|виплат\w*|пенсі\w*|підтримк\w*|компенсаці\w*|стипенді\w*|відшкодуванн\w*"
    r"|\w*مساعد\w*|\w*اعان\w*|\w*دعم\w*|\w*معاش\w*|\w*تعويض\w*|\w*صرف\w*"
    # The Danish name in a Ukrainian or Arabic text: "вашу ydelse зменшено".
    rf"|{lexicon.BENEFIT})"
)
STOPS = (
    r"(припиня\w*|припинен\w*|припинено|припинити|зупинен\w*|зупинено|зупинили|зменшен\w*"
    r"|зменшено|зменшу\w*|скасован\w*|скасовано|скорочен\w*"
    r"|\w*ايقاف|\w*وقف|\w*توقف\w*|\w*تخفيض|\w*خفض\w*|\w*قطع|\w*تقليص)"
)

CUES: tuple[Cue, ...] = (
    _cue("overskrift", r"^(рішення|відмова|(ال)?قرار)\b[^:.!?]{0,40}\s*(:|\s-\s|!)"),
    _cue(
        "afslag",
        r"\b(відмовлено|відмовили|відмовила|відмовляємо|відхилено|відхилена|відхилили"
        r"|відхилила|не схвалено|не схвалена)\b"
        r"|\b(تم رفض\w*|رفضنا|رفضت|رفض|نرفض|مرفوض\w*|رفضك|انرفض\w*|اترفض\w*)\b"
        r"|\bне\s+(буде надано|будуть надані|дадуть|надамо|можете отримувати)\b",
    ),
    _cue(
        "bevilling",
        r"\b(схвалено|схвалена|схвалили|задоволено|задоволена|задовольнили|призначено"
        r"|призначена|призначили|надаємо вам|надано вам|погоджено|погоджена|погодили|погодила"
        r"|погодилися|продовжено|продовжили|продовжила|вам надано|вам надала|вам дали"
        r"|(отримав|отримала|отримали)\s+місце)\b"
        r"|\b(تمت الموافقه|تم منح\w*|وافقنا|وافقت البلديه|نمنح\w*|منحك\w*|منحنا"
        r"|وافقت|انوافق|نوافق|قررت الموافقه)\b",
    ),
    _cue("ophør eller nedsættelse", rf"\b{BENEFIT}\b.{{0,50}}\b{STOPS}\b"),
    _cue("ophør eller nedsættelse", rf"\b{STOPS}\b.{{0,30}}\b{BENEFIT}\b"),
    _cue(
        "tilbagebetaling",
        r"\b(повернути|повернете|повертати)\s+(\S+\s+){0,3}"
        r"(\d|крон|кошт|грош|допомог|переплат|сум)|\bповертати\b"
        r"|\b(ارجاع|اعاده|رد|استرداد)\s+(\S+\s+){0,3}(\d|\w*مبلغ|\w*مساعد\w*|كرون)",
    ),
    _cue("sanktion", r"\bсанкці\w*|\w*عقوبه\b"),
    _cue(
        "ret til",
        r"\b(маєте|має|мають)\s+(\w+\s+)?право\b|\bне (маєте|мають) права\b"
        r"|\b(ليس لديك|لديك|لم يعد لديك) الحق\b|\b(لا )?(لم يعد )?يحق (لك|لكم|لها|له|لهم)\b",
    ),
    _cue(
        "besluttet",
        r"\b(вирішили|вирішено|прийняли рішення|ухвалили рішення|ухвалила рішення)\b"
        r"|\b(комуна|jobcenter|jobcentret|відділ|команда|ми)\s+(\S+\s+)?(вирішила|вирішив|рішили"
        r"|ухвалив)\b|\b(вирішила|вирішив|ухвалив\w*)\s+(\S+\s+)?(комуна|jobcenter|відділ|команда)\b"
        r"|\b(قررنا|تقرر|قررت البلديه|قررت الكومونه|(البلديه|الكومونه|اللجنه) قررت)\b"
        r"|\bقرر(ت)? (ال)?(بلديه|كومونه|لجنه|jobcenter|فريق)"
        r"|\bهذا (هو )?قرار (ال)?(كومونه|بلديه|قسم|لجنه)"
        r"|\b(اتخذنا|اتخذت البلديه|اتخذت) (ال)?قرار\w*",
    ),
    _cue(
        "kan ikke få",
        r"\bне (може|можемо|можуть)\s+(покрити|оплатити|компенсувати|надати)\b"
        r"|\bلا (يمكننا|نستطيع|تستطيع البلديه|يمكن للبلديه)\s+(تغطيه|دفع|تحمل)\b",
    ),
    _cue(
        "opfylder ikke betingelserne",
        r"\bне відповіда\w*\s+(\w+\s+)?(умовам|вимогам|критеріям)\b"
        r"|\bلا (تستوفي\w*|تستوفون|يستوفي)\s+(ال)?شروط\b",
    ),
    _cue(
        "du får en ydelse",
        r"\b(ви\s+)?(отримуватимете|будете отримувати|отримаєте)\s+(\S+\s+){0,3}"
        r".{0,40}(на місяць|щомісяця|\bкрон\b)"
        rf"|\b{BENEFIT}\s+(становитиме|складатиме|буде становити)\b"
        rf"|\bستحصل علي (\S+ ){{0,3}}{BENEFIT}.{{0,40}}(شهريا|في الشهر|كرون|من \d)"
        rf"|\bستكون {BENEFIT} \d",
    ),
    _cue(
        "dækker eller betaler",
        # "Комуна не покриває витрати", "البلدية لن تغطي التكلفة": the municipality will not pay.
        r"\bне\s+(покриває|покриватиме|покриваємо|покриватимемо|оплачує|оплачуватиме|оплачуємо"
        r"|компенсує|компенсуватиме)\b"
        r"|\b(و|ف)?(لن|لا)\s+(تغطي|نغطي|يغطي|تدفع|ندفع|تتحمل|نتحمل)\b",
    ),
    _cue(
        "du får ikke",
        # "Ви не отримаєте допомогу", "لن تحصل على مساعدة".
        r"\bне\s+(отримаєте|отримуватимете|отримуєте|будете отримувати)\s+(\S+\s+){0,2}?"
        rf"{BENEFIT}"
        rf"|\b(و|ف)?(لن|لا)\s+(تحصل|تحصلوا|تحصلين|تتلقي|تتلقوا|يحصل|تحصلي)\s+(علي\s+)?"
        rf"(\S+\s+){{0,2}}?{BENEFIT}",
    ),
    _cue(
        "§ og klage",
        r"\b(можете|можна)\s+оскаржити\s+(це|цього|дане|цим)\s+рішення"
        r"|\b(це|цього|цим) рішення\w*\b.{0,30}\bоскарж\w*|\bоскарж\w*\s+(це|цього) рішення"
        r"|(\w*يمكنك )?\w*(الطعن|شكوي|تظلم) (في|علي) هذا القرار",
    ),
    # Fifth round: the municipality pays, you will get (with an amount, a period or a start),
    # a decision upheld or changed after a complaint, a deduction, a repayment.
    _cue(
        "vi betaler",
        r"\b(комуна|ми)\s+(оплатить|оплачує|оплачуватиме|виплачуватиме|покриваємо|покриває"
        r"|покриє|дає|надає|надала)\b"
        r"|\b(ال)?(كومونه|بلديه)\s+(?!لا\s|لن\s)(\S+\s+)?(ستدفع|رح تدفع|بتدفع|تدفع|ستغطي|تغطي"
        r"|رح تغطي|وافقت)\b",
    ),
    _cue(
        "du får en ydelse",
        r"\b(ستحصل\w*|سيحصل|تحصل|حصلت|رح تاخد\w*|ياخد|تاخد)\s+(\S+\s+){0,8}?(كل شهر|شهريا"
        r"|في الشهر|بالشهر|كل اسبوع|في الاسبوع|بالاسبوع|ابتداء|من \d|\d[\d.,]*\s*(kr|كرون))"
        r"|\b(отримуватиме|отримуватимете|отримаєте|отримає|матиме)\s+(\S+\s+){0,8}?"
        r"(на тиждень|на місяць|щодня|щотижня|кожн\w+|з \d|\d[\d.,]*\s*(kr|крон))",
    ),
    _cue(
        "fastholdt eller ændret",
        r"\b(змінюємо|змінили|залишаємо)\s+(\S+\s+)?рішення\b|\bрішення\s+(без змін|скасовано"
        r"|змінено)|\bпопереднє рішення\b"
        r"|\b(غيرنا|نغير|نبقي علي|ابقينا علي|ابقينا) (ال)?قرار",
    ),
    _cue(
        "træk i ydelsen",
        r"\b(سنخصم|سيتم خصم|هيتخصم|رح نخصم|نخصم|يتخصم)\b|\bзнімаємо\b|\bзнімемо\b",
    ),
    _cue(
        "tilbagebetaling",
        r"\b(تعيد|ترجع|تعيدي|ترجعي|ترجع\w*)\s+(\S+\s+){0,3}(\d|\w*مبلغ|كرون)",
    ),
    _cue(
        "forhøjelse",
        rf"\b{BENEFIT}\s+(\S+\s+)?(збільшиться|збільшується|збільшено)\b",
    ),
    # Sixth round (train-r7-*): a casual grant ("тобі дають гроші на окуляри", "ستغطي البلدية
    # …"), a refusal without رفض ("لم تتم الموافقة على طلب …"), a right that ends, samvær
    # changed, a benefit at a new level from a date, a complaint deadline.
    _cue(
        "du får en ydelse",
        r"\b(тобі|вам)\s+(дають|дадуть|дамо|даємо|надамо|надаємо)\s+(\S+\s+)?(грош\w*|кошт\w*)\s+на\b"
        r"|\b(ستغطي|ستدفع)\s+(ال)?(بلديه|كومونه)\b",
    ),
    _cue("afslag", r"\bلم\s+(تتم|يتم)\s+(ال)?موافقه\b"),
    _cue("ret til", r"\b(لم يعد|ليس)\s+(لك|لكم)\s+(ال)?حق\b"),
    _cue(
        "samvær ændret",
        r"\b(samvaer|побачен\w*)\b.{0,60}?(\b(тепер|відтепер)\b|під наглядом|без нагляду)"
        r"|(\bsamvaer\b|\bالزيارات\b|\bزيارات\w*).{0,60}?(تحت الاشراف|بدون اشراف|بلا اشراف)",
    ),
    _cue(
        "en ydelse ændret",
        r"\b(اصبح|اصبحت|سيصبح|ستصبح|سيكون|ستكون)\s+\d[\d.,]*\s*(%|kr\b|كرون)\s*(من|ابتداء)"
        r"|\b(становить|становитиме|буде)\s+\d[\d.,]*\s*(%|kr\b|крон)\s*(з|від)\b",
    ),
    _cue(
        "klagevejledning med frist",
        r"\b(يمكنك|يمكنكم)\s+(ال)?(اعتراض|الطعن|تقديم\s+شكوي)\s+(\S+\s+){0,4}?خلال\s+\d+\s+"
        r"(اسابيع|اسبوع|اشهر)"
        r"|\b(можете|можна)\s+оскаржити\s+(\S+\s+){0,4}?(протягом|впродовж)\s+\d+\s+(тиж|місяц)",
    ),
)

# A decision made before: "минулого року", "раніше", "العام الماضي", "سابقا".
PAST = (
    r"(минулого року|минулого місяця|(?<!як )(?<!як і )раніше|торік|колись|العام الماضي"
    r"|الشهر الماضي|سابقا|من قبل|في السابق)"
)

SCOPES: tuple[Scope, ...] = (
    _scope("spørgsmål", r"؟", "sentence"),
    _scope(
        "betingelse eller advarsel",
        r"\b(якщо|інакше|у разі|в разі|اذا|ان لم|والا|في حال|في حاله)\b",
        "before",
    ),
    _scope(
        "mulighed",
        r"\b(можуть|може|можна|можете|можливо|мабуть|ймовірно|ризикуєте|сподіваюся"
        r"|сподіваємося|قد|ربما|يمكن|يمكنك|ممكن|احتمال)\b(?!\s+(не|لا)\b)",
        "near",
    ),
    _scope(
        "ikke afgjort endnu",
        r"\b(ще не|поки не|поки що не|нічого не|не вирішено|перш ніж|до того як|чи маєте|чи є"
        r"|розглядаємо"
        r"|перевіряємо|буде готове|не вирішили|не ухвалили|لم يتم اتخاذ|لم نتخذ|لم نقرر"
        r"|قبل ان|ما اذا|ندرس|نفكر|نتحقق|سيكون القرار|(لم|ليس|ما)\s+(\S+\s+){0,3}بعد)\b",
        "sentence",
    ),
    _scope(
        "en tidligere afgørelse nævnt",
        rf"\b{PAST}\b",
        "before",
    ),
    _scope(
        "en tidligere afgørelse nævnt",
        # After the cue, but not in its reason ("ми оплатимо 1.500 kr, бо одну куртку вже
        # оплатили минулого року": the outcome is now, the reason is past).
        rf"^((?!\b(бо|тому що|оскільки|لان|لانه|بسبب)\b).)*\b{PAST}\b",
        "after",
    ),
    _scope(
        "borgerens egne ord",
        r"\b(ви пишете|ви кажете|ви написали|ви сказали|ви писали|ви казали|ви говорили|ви питаєте"
        r"|ви думаєте|تكتب|تقول|كتبت"
        r"|قلت|ذكرت|تسال)\b",
        "before",
    ),
    _scope(
        "påmindelse om klage",
        r"\b(не забудьте|нагадую|ваша скарга|вашу скаргу|لا تنس|تذكر|تذكير|شكواك)\b",
        "before",
        skip=("fastholdt eller ændret",),  # "розглянули вашу скаргу і залишаємо рішення"
    ),
    _scope(
        "generel vejledning",
        r"\b(зазвичай|як правило|загалом|люди які|люди, які|багато|عاده|عموما|غالبا|الناس"
        r"|الاشخاص الذين)\b",
        "before",
    ),
    _scope(
        "en anden myndigheds afgørelse",
        r"\b(від|у|в|приймає|ухвалює|من|في|يتخذه|تتخذه)\s+(udbetaling danmark|udk"
        r"|ankestyrelsen|familieretshuset|a-kasse)\b",
        "sentence",
    ),
    _scope(
        "nægtet",
        r"\b(не|ні|нічого|لا|لن|لم|ليس)\b[^.]{0,25}$",
        "near",
        "tilbagebetaling",
        "ophør eller nedsættelse",
        "sanktion",
    ),
    _scope(
        "nægtet",
        r"(^|\s)(не|ні|لا|لن|لم|ليس)\s",
        "within",
        "ophør eller nedsættelse",
    ),
    _scope(
        "en processuel rettighed",
        r"^\s*(на\s+)?(перекладач\w*|адвокат\w*|помічник\w*|bisidder|aktindsigt|копі\w*|доступ|взяти"
        r"|подивитися|переглянути|ознайомит\w*"
        r"|на ознайомлення|отримати копі\w*|подати скаргу|оскаржити|бути почут\w*|попросити|просити"
        r"|звернутися|поговорити|сказати|висловити\w*|прийти|привести|безкоштовн\w*"
        r"|бути присутн\w*|бути (на|при)\b|взяти участь)"
        r"|^\s*(في\s+)?(ال)?(الحصول علي\s+)?(مترجم|نسخه|مرافق|الاطلاع|احضار|تقديم|الطعن"
        r"|ان يرافقك|ان تري|ان تطلب|طلب|محام\w*|مجان\w*|حضور|ان تحضر|اعتراض)",
        "after",
        "ret til",
    ),
    _scope(
        "praktisk aftale",
        r"\b(зустріч\w*|прийом\w*|телефон\w*|перенести|зателефон\w*|الاجتماع|الموعد|الهاتف"
        r"|نقل)\b",
        "sentence",
        "besluttet",
        "bevilling",
    ),
    _scope(
        "citat fra et brev",
        r"\b(у листі написано|у листі сказано|в листі написано|в листі сказано"
        r"|مكتوب في الرساله|في الرساله مكتوب)\b",
        "before",
    ),
    # Fifth round: who decides ("Udlændingestyrelsen هي التي تقرر", "وليس البلدية"), a letter
    # talked about ("الرسالة … عن tilbagebetaling"), a request not to pay now ("من فضلك لا تدفع").
    _scope(
        "en anden myndigheds afgørelse",
        r"\b(التي|الذي|من) (تقرر|يقرر|تبت|يبت)\b|\bوليس البلديه\b"
        r"|\b(хто|яка|який|що)\s+(вирішує|ухвалює)\b|\bа не комуна\b",
        "sentence",
    ),
    _scope("en afgørelse omtalt", r"(^|\s)(عن|بخصوص|حول|بشان)\s+$", "near"),
    _scope(
        "en anmodning",
        r"(^|\s)(من فضلك|رجاء|ارجو|ارجوك|будь ласка|прошу)\s+$",
        "near",
        "dækker eller betaler",
        "tilbagebetaling",
    ),
    _scope(
        "generel vejledning",
        r"^\s*(عاده|عموما|غالبا|зазвичай|як правило)\b",
        "after",
    ),
    _scope(
        "en bevilling nævnt",
        # "التاكسي اللي انوافق عليه" (the taxi that was approved): the grant is the background.
        r"(^|\s)(اللي|الذي|التي|يلي|який|яка|яке|які)\s+$",
        "near",
        "bevilling",
    ),
)
