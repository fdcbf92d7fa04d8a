"""More phrases ``multilingual`` reads: asks to reveal the system prompt, and "you are now"."""

# The phrases are written in their own scripts and punctuation, look-alikes of ASCII included.
# ruff: noqa: RUF001

from __future__ import annotations

from mailmoat.scanner.domain.rules.multilingual_phrases import Phrases

PROMPT_LEAK = (
    Phrases(
        "Dutch",
        ("systeemprompt", "systeeminstructies"),
        (
            r"\b(?:toon|geef|onthul|laat|deel)\b[^.\n]{0,30}?\b(?:systeemprompt|systeeminstructies|"
            r"systeem\s+prompt)",
        ),
        latin=True,
    ),
    Phrases(
        "Polish",
        ("systemowy", "systemowe", "systemowego"),
        (
            r"\b(?:ujawnij|pokaż|wyświetl|podaj|wypisz)\s+(?:mi\s+)?(?:swój\s+|twój\s+|swoje\s+)?"
            r"(?:prompt\s+systemowy|systemowy\s+prompt|instrukcje\s+systemowe)",
        ),
        latin=True,
    ),
    Phrases(
        "Turkish",
        ("sistem",),
        (
            r"sistem\s+(?:istemini|komutunu|talimatlarını|promptunu|mesajını)\s+(?:\w+\s+)?"
            r"(?:göster|açıkla|paylaş|yaz|ver|söyle)",
        ),
        latin=True,
    ),
    Phrases(
        "Indonesian",
        ("prompt", "instruksi"),
        (
            r"\b(?:tunjukkan|ungkapkan|tampilkan|berikan|bocorkan|sebutkan)\s+(?:kepada\s+saya\s+)?"
            r"(?:prompt|instruksi)\s+sistem",
        ),
        latin=True,
    ),
    Phrases(
        "Swahili",
        ("mfumo",),
        (
            r"\b(?:onyesha|fichua|toa|taja)\s+(?:maagizo|maelekezo|kidokezo|vidokezo)\s+vya?\s+mfumo",
        ),
        latin=True,
    ),
    Phrases(
        "Vietnamese",
        ("hệ thống", "he thong"),
        (
            r"(?:tiết\s+lộ|hiển\s+thị|cho\s+tôi\s+xem|in\s+ra|cho\s+biết)\s+(?:lời\s+nhắc|prompt|"
            r"chỉ\s+dẫn|hướng\s+dẫn)\s+hệ\s+thống",
            r"\b(?:tiet\s+lo|hien\s+thi|in\s+ra)\s+(?:loi\s+nhac|prompt|chi\s+dan|huong\s+dan)\s+"
            r"he\s+thong",
        ),
        latin=True,
    ),
    Phrases(
        "Russian",
        ("системн",),
        (
            r"(?:покажи|покажите|раскрой|раскройте|выведи|выведите|сообщи|напиши)\s+(?:мне\s+)?"
            r"(?:свой\s+|ваш\s+|твой\s+|свои\s+|твои\s+)?(?:системный\s+промпт|системные\s+"
            r"инструкции|системную\s+подсказку|системное\s+сообщение)",
        ),
    ),
    Phrases(
        "Arabic",
        ("النظام",),
        (
            r"(?:اكشف|أظهر|اظهر|اعرض|أخبرني|اطبع)\s+(?:لي\s+)?(?:عن\s+)?(?:موجه|تعليمات|أوامر)\s+"
            r"النظام",
        ),
    ),
    Phrases(
        "Hindi",
        ("सिस्टम",),
        (r"सिस्टम\s+(?:प्रॉम्प्ट|निर्देश)\S*\s+[^\n]{0,30}?(?:दिखाओ|दिखाएं|बताओ|बताएं|प्रकट)",),
    ),
    Phrases(
        "Amharic",
        ("የስርዓት", "የሲስተም"),
        (r"(?:የስርዓት|የሲስተም)\s+(?:መመሪያ|ጥያቄ|ፕሮምፕት)\S*\s+(?:\S+\s+)?(?:አሳይ|ግለጽ|ንገረኝ)",),
    ),
    Phrases(
        "Khmer",
        ("ប្រព័ន្ធ",),
        (r"(?:បង្ហាញ|បញ្ចេញ|ប្រាប់)\s*(?:ខ្ញុំ\s*)?(?:ពី\s*)?(?:ការណែនាំ|ប្រអប់បញ្ចូល)\s*ប្រព័ន្ធ",),
    ),
    Phrases(
        "Japanese",
        ("システムプロンプト",),
        (r"システムプロンプト(?:を|の内容を)?[^\n]{0,20}?(?:表示|教えて|出力|公開|見せて)",),
    ),
    Phrases(
        "Chinese",
        ("系统提示", "系統提示", "系统指令", "系統指令"),
        (
            r"(?:显示|顯示|透露|泄露|洩露|告诉我|告訴我|输出|輸出|展示|公开|公開)[^\n]{0,10}?"
            r"(?:系统提示|系統提示|系统指令|系統指令)",
        ),
    ),
    Phrases(
        "Korean",
        ("시스템",),
        (r"시스템\s*프롬프트\S{0,2}\s*[^\n]{0,20}?(?:보여|공개|알려|출력|표시)",),
    ),
)

YOU_ARE_NOW = (
    Phrases("Italian", ("ora", "adesso"), (r"\b(?:ora|adesso)\s+sei\s+(?:un|una|il|la)\b",), True),
    Phrases("Dutch", ("je", "jij", "u"), (r"\b(?:je|jij|u)\s+bent\s+nu\s+(?:een|de|het)\b",), True),
    Phrases("Polish", ("jesteś", "teraz"), (r"\b(?:jesteś\s+teraz|teraz\s+jesteś)\b",), True),
    Phrases(
        "Turkish", ("artık",), (r"\b(?:sen\s+)?artık\s+(?:sen\s+)?bir\s+\w+(?:sın|sin|sun|sün)\b",)
    ),
    Phrases(
        "Indonesian",
        ("kamu", "anda", "mulai"),
        (r"\b(?:kamu|anda)\s+sekarang\s+adalah\b|\bmulai\s+sekarang\s+(?:kamu|anda)\b",),
        True,
    ),
    Phrases("Swahili", ("sasa", "wewe"), (r"\b(?:sasa\s+wewe\s+ni|wewe\s+sasa\s+ni)\b",), True),
    Phrases(
        "Vietnamese", ("bây giờ", "từ giờ"), (r"(?:bây\s+giờ|từ\s+giờ|từ\s+bây\s+giờ)\s+bạn\s+là",)
    ),
    Phrases("Russian", ("теперь",), (r"(?:теперь\s+ты|ты\s+теперь|теперь\s+вы)\s+\S+",)),
    Phrases("Arabic", ("الآن",), (r"أنت\s+الآن\s+\S+",)),
    Phrases("Hindi", ("अब",), (r"अब\s+(?:तुम|आप|से\s+तुम|से\s+आप)\s+(?:एक\s+)?\S+\s+(?:हो|हैं)",)),
    Phrases("Amharic", ("አሁን",), (r"አሁን\s+አንተ\s+\S+",)),
    Phrases("Khmer", ("ឥឡូវ",), (r"ឥឡូវ(?:នេះ)?\s*អ្នក\s*(?:គឺ|ជា)",)),
    Phrases(
        "Japanese", ("あなた", "今から"), (r"(?:あなたは今から|今からあなたは|あなたはこれから)",)
    ),
    Phrases("Chinese", ("现在", "現在"), (r"(?:你现在是|你現在是|从现在开始你是|從現在開始你是)",)),
    Phrases("Korean", ("이제",), (r"(?:당신은|너는)\s*이제|이제(?:부터)?\s*(?:당신은|너는)",)),
)
