"""The phrases ``multilingual`` reads: override, exfiltration, prompt-leak and "you are now"
phrasing per language, each with anchor words one of which every match holds."""

# The phrases are written in their own scripts and punctuation, look-alikes of ASCII included.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Phrases:
    """One language's patterns for one kind of phrase, and words one of which each match holds."""

    language: str
    anchors: tuple[str, ...]
    patterns: tuple[str, ...]
    latin: bool = False
    """Written in Latin letters, so an ASCII text may hold it."""


OVERRIDE = (
    Phrases(
        "Italian",
        ("ignora", "ignorare", "ignorate", "dimentica", "dimenticare", "dimenticate"),
        (
            r"\b(?:ignora|ignorare|ignorate|dimentica|dimenticare|dimenticate)\s+(?:tutte\s+)?"
            r"(?:le\s+)?(?:tue\s+|sue\s+)?(?:istruzioni|indicazioni|regole|direttive)"
            r"(?:\s+(?:precedenti|di\s+prima|sopra))?",
        ),
        latin=True,
    ),
    Phrases(
        "Dutch",
        ("negeer", "vergeet", "negeren"),
        (
            r"\b(?:negeer|vergeet)\s+(?:alle\s+)?(?:de\s+|je\s+|jouw\s+|uw\s+)?(?:vorige|eerdere|"
            r"voorgaande|bovenstaande|oude)?\s*(?:instructies|aanwijzingen|opdrachten|regels)\b",
        ),
        latin=True,
    ),
    Phrases(
        "Polish",
        ("zignoruj", "ignoruj", "zapomnij", "zignorujcie"),
        (
            r"\b(?:zignoruj|ignoruj|zignorujcie)\s+(?:wszystkie\s+)?(?:poprzednie|wcześniejsze|"
            r"powyższe|swoje|twoje)\s+(?:instrukcje|polecenia|wytyczne|zasady)",
            r"\bzapomnij\s+(?:o\s+)?(?:wszystkich\s+)?(?:swoich\s+|twoich\s+|poprzednich\s+)+"
            r"(?:instrukcjach|poleceniach|wytycznych|zasadach)",
        ),
        latin=True,
    ),
    Phrases(
        "Turkish",
        ("talimat", "komut", "yönerge", "kural"),
        (
            r"(?:önceki|yukarıdaki|evvelki|tüm|bütün)\s+(?:tüm\s+|bütün\s+)?(?:talimat|komut|"
            r"yönerge|kural)\w*\s+(?:\w+\s+)?(?:yok\s+say|görmezden\s+gel|unut|dikkate\s+alma)",
            r"(?:talimatlarını|talimatlarini|komutlarını|yönergelerini)\s+(?:tamamen\s+)?unut",
        ),
    ),
    Phrases(
        "Indonesian",
        ("abaikan", "lupakan", "acuhkan"),
        (
            r"\b(?:abaikan|lupakan|acuhkan)\s+(?:semua\s+|seluruh\s+)?(?:instruksi|perintah|petunjuk|"
            r"arahan|aturan)(?:mu|\s+(?:sebelumnya|di\s+atas|terdahulu|kamu|anda))",
        ),
        latin=True,
    ),
    Phrases(
        "Swahili",
        ("puuza", "sahau", "puuzeni"),
        (
            r"\b(?:puuza|puuzeni|sahau)\s+(?:maagizo|maelekezo|amri|maelezo)\s+(?:yote\s+)?"
            r"(?:ya\s+awali|yaliyotangulia|ya\s+hapo\s+(?:awali|juu)|yaliyopita|yako|uliyopewa)",
        ),
        latin=True,
    ),
    Phrases(
        "Vietnamese",
        ("bỏ qua", "phớt lờ", "quên", "bo qua", "quen"),
        (
            r"(?:bỏ\s+qua|phớt\s+lờ|quên(?:\s+đi)?)\s+(?:tất\s+cả\s+)?(?:các\s+|mọi\s+|những\s+)?"
            r"(?:hướng\s+dẫn|chỉ\s+dẫn|chỉ\s+thị|lệnh|quy\s+tắc)\s+(?:trước\s+đó|trước|ở\s+trên|"
            r"phía\s+trên|của\s+bạn)",
            r"\b(?:bo\s+qua|quen(?:\s+di)?)\s+(?:tat\s+ca\s+)?(?:cac\s+|moi\s+)?(?:huong\s+dan|"
            r"chi\s+dan|chi\s+thi)\s+(?:truoc\s+do|truoc|o\s+tren|cua\s+ban)",
        ),
        latin=True,
    ),
    Phrases(
        "Russian",
        ("игнорир", "проигнорир", "забуд", "не обращай"),
        (
            r"(?:проигнорируй|игнорируй|проигнорируйте|игнорируйте|забудь|забудьте|не\s+обращай"
            r"(?:те)?\s+внимания\s+на)\s+(?:все\s+|всё\s+)?(?:предыдущие|прежние|прошлые|"
            r"вышеуказанные|вышеприведенные|вышеприведённые|свои|твои|ваши|данные\s+ранее)\s+"
            r"(?:инструкции|указания|команды|правила|инструкциях|указаниях)",
        ),
    ),
    Phrases(
        "Arabic",
        ("تجاهل", "انس", "إنس", "تعليمات"),
        (
            r"(?:تجاهل|تجاهلي|تجاهلوا|انس|انسى|إنس)\s+(?:جميع\s+|كل\s+)?(?:التعليمات|الأوامر|"
            r"الإرشادات|التوجيهات)\s+(?:السابقة|أعلاه|الماضية)",
            r"(?:تجاهل|تجاهلي|انس|انسى|إنس)\s+(?:جميع\s+|كل\s+)?(?:تعليماتك|أوامرك|إرشاداتك)",
        ),
    ),
    Phrases(
        "Hindi",
        ("निर्देश", "आदेश"),
        (
            r"(?:पिछले|पिछली|पूर्व|ऊपर\s+के|ऊपर\s+दिए\s+गए|अपने|सभी)\s+(?:सभी\s+|सारे\s+)?"
            r"(?:निर्देशों|निर्देश|आदेशों|नियमों)\s+(?:को\s+)?(?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल|इग्नोर)",
        ),
    ),
    Phrases(
        "Amharic",
        ("መመሪያ",),
        (
            r"(?:ቀደም|ያለፉ|የቀድሞ|ሁሉንም|የተሰጡ)\S*\s+(?:\S+\s+){0,2}?መመሪያ\S*\s+(?:ችላ\s+(?:በል|በሉ|"
            r"ይበሉ|በይ)|እርሳ|እርሱ|ርሳ)",
            r"መመሪያ\S*(?:ህን|ሽን|ዎችህን|ዎችሽን)\s+(?:እርሳ|እርሺ|ችላ\s+በል)",
        ),
    ),
    Phrases(
        "Khmer",
        ("ការណែនាំ",),
        (
            r"(?:មិន\s*អើពើ|បំភ្លេច)\s*(?:នឹង\s*)?(?:ចំពោះ\s*)?ការណែនាំ\s*(?:ទាំងអស់\s*)?(?:ពីមុន|មុន|"
            r"ខាងលើ|របស់អ្នក)",
        ),
    ),
    Phrases(
        "Japanese",
        ("指示", "命令", "指令", "ルール"),
        (
            r"(?:以前|前|上記|これまで|今まで|先ほど|あなた)の(?:すべての|全ての|全)?(?:指示|命令|指令|"
            r"ルール)(?:を|は)?(?:すべて|全て)?(?:無視|忘れ)",
        ),
    ),
    Phrases(
        "Chinese",
        ("忽略", "无视", "無視", "忽視", "忘记", "忘記", "不要理会", "不要理會"),
        (
            r"(?:忽略|无视|無視|忽視|不要理会|不要理會)(?:掉)?(?:之前|以前|先前|上面|上述|前面|此前)?"
            r"(?:的)?(?:所有|全部|一切)?(?:的)?(?:指令|指示|说明|說明|规则|規則|命令)",
            r"(?:忘记|忘記|忘掉)(?:你的|之前的|以前的|所有的?|全部的?)+(?:指令|指示|规则|規則|命令)",
        ),
    ),
    Phrases(
        "Korean",
        ("무시", "잊어"),
        (
            r"(?:이전|위|앞|앞서|기존|당신|너)의?\s*(?:모든\s*)?(?:지시\S{0,3}|지침\S{0,2}|명령\S{0,2}|"
            r"규칙\S{0,2})\s*(?:모두\s*|전부\s*)?(?:무시|잊어)",
        ),
    ),
)

EXFILTRATION = (
    Phrases(
        "Dutch",
        ("stuur", "verstuur", "forward"),
        (
            r"\b(?:stuur|verstuur|forward)\s+(?:al\s+(?:je|uw)\s+|alle\s+)(?:e-?mails|berichten|"
            r"mails)\s+(?:door\s+)?naar\b",
        ),
        latin=True,
    ),
    Phrases(
        "Polish",
        ("wyślij", "prześlij", "przekaż", "przekazuj"),
        (
            r"\b(?:wyślij|prześlij|przekaż|przekazuj)\s+(?:wszystkie\s+)(?:e-?maile|wiadomości|"
            r"maile|listy)\s+(?:do|na)\b",
        ),
        latin=True,
    ),
    Phrases(
        "Turkish",
        ("tüm", "bütün"),
        (
            r"(?:tüm|bütün)\s+(?:e-?posta|mail|ileti|mesaj)\w*\s+[^\n]{0,80}?(?:gönder|ilet|"
            r"yönlendir|aktar)",
        ),
    ),
    Phrases(
        "Indonesian",
        ("kirim", "kirimkan", "teruskan"),
        (
            r"\b(?:kirim|kirimkan|teruskan)\s+(?:semua|seluruh)\s+(?:email|surel|pesan)\w*\s+"
            r"[^\n]{0,20}?\b(?:ke|kepada)\b",
        ),
        latin=True,
    ),
    Phrases(
        "Swahili",
        ("tuma", "peleka", "sambaza"),
        (
            r"\b(?:tuma|peleka|sambaza)\s+(?:barua\s+pepe|jumbe|ujumbe)\s+(?:zote|wote)\s+"
            r"(?:kwa|kwenda)\b",
        ),
        latin=True,
    ),
    Phrases(
        "Vietnamese",
        ("gửi", "chuyển", "gui", "chuyen"),
        (
            r"(?:gửi|chuyển\s+tiếp|chuyển)\s+(?:tất\s+cả|toàn\s+bộ|mọi)\s+(?:các\s+)?(?:email|thư|"
            r"tin\s+nhắn)\s+[^\n]{0,20}?(?:đến|tới|cho)",
            r"\b(?:gui|chuyen\s+tiep)\s+(?:tat\s+ca|toan\s+bo)\s+(?:cac\s+)?(?:email|thu|"
            r"tin\s+nhan)\s+[^\n]{0,20}?\b(?:den|toi|cho)\b",
        ),
        latin=True,
    ),
    Phrases(
        "Russian",
        ("перешли", "отправь", "пересыла", "отправляй"),
        (
            r"(?:перешли|перешлите|отправь|отправьте|пересылай|пересылайте|отправляй)\s+(?:мне\s+)?"
            r"(?:все|всю)\s+(?:\S+\s+)?(?:письма|сообщения|почту|переписку)",
        ),
    ),
    Phrases(
        "Arabic",
        ("أرسل", "ارسل", "حول", "حوّل", "أعد"),
        (
            r"(?:أرسل|ارسل|أرسلي|حوّل|حول|أعد\s+توجيه)\s+(?:جميع|كل)\s+(?:الرسائل|رسائل|البريد|"
            r"الإيميلات|الايميلات)",
        ),
    ),
    Phrases(
        "Hindi",
        ("सभी", "सारे", "सारी"),
        (
            r"(?:सभी|सारे|सारी)\s+(?:ईमेल|संदेश|संदेशों|मेल|मैसेज)\S*\s+[^\n]{0,60}?(?:भेजो|भेजें|भेज\s+दो|"
            r"भेज\s+दें|फॉरवर्ड)",
        ),
    ),
    Phrases(
        "Amharic",
        ("ሁሉንም",),
        (r"ሁሉንም\s+(?:ኢሜይሎች|ኢሜሎች|መልዕክቶች|መልእክቶች)\S*\s+[^\n]{0,60}?(?:ላክ|አስተላልፍ|ላኪ)",),
    ),
    Phrases(
        "Khmer",
        ("ផ្ញើ", "បញ្ជូន"),
        (r"(?:ផ្ញើ|បញ្ជូន\s*បន្ត|បញ្ជូន)\s*(?:អ៊ីមែល|សារ)\s*ទាំងអស់\s*(?:ទៅ|ទៅកាន់|ជូន)",),
    ),
    Phrases(
        "Japanese",
        ("メール", "メッセージ"),
        (
            r"(?:すべての|全ての|全)(?:メール|メッセージ)を[^\n]{0,60}?(?:に|へ)(?:転送|送信|送って|送る)",
            r"(?:メール|メッセージ)を(?:すべて|全て|全部)[^\n]{0,60}?(?:に|へ)(?:転送|送信|送って|送る)",
        ),
    ),
    Phrases(
        "Chinese",
        ("所有", "全部"),
        (
            r"(?:将|把|將)?(?:所有|全部)(?:的)?(?:邮件|郵件|电子邮件|電子郵件|消息|訊息|信息)[^\n]{0,40}?"
            r"(?:转发|轉發|发送|發送|发给|發給|发到|發到)",
        ),
    ),
    Phrases(
        "Korean",
        ("모든",),
        (r"모든\s*(?:이메일|메일|메시지)\S{0,2}\s*[^\n]{0,60}?(?:전달|보내|전송|포워딩)",),
    ),
)
