"""A small line-aligned text in six languages, in files named as FLORES-200 and NLLB name theirs (an ISO 639-3
code and an ISO 15924 script: eng_Latn, zho_Hans), written for these tests."""

from __future__ import annotations

from pathlib import Path

SENTENCES = {
    "eng_Latn": [
        "The library opens at nine in the morning.",
        "My sister bought fresh bread at the market.",
        "It rained all night, so the roads are wet.",
        "We will travel to the mountains next summer.",
        "The children are reading books in the garden.",
        "Please close the window before you leave.",
    ],
    "deu_Latn": [
        "Die Bibliothek öffnet um neun Uhr morgens.",
        "Meine Schwester hat auf dem Markt frisches Brot gekauft.",
        "Es hat die ganze Nacht geregnet, deshalb sind die Straßen nass.",
        "Nächsten Sommer reisen wir in die Berge.",
        "Die Kinder lesen Bücher im Garten.",
        "Bitte schließ das Fenster, bevor du gehst.",
    ],
    "zho_Hans": [
        "图书馆早上九点开门。",
        "我姐姐在市场买了新鲜的面包。",
        "下了一整夜的雨，所以路面是湿的。",
        "明年夏天我们要去山里旅行。",
        "孩子们在花园里看书。",
        "离开之前请关上窗户。",
    ],
    "arb_Arab": [
        "تفتح المكتبة في الساعة التاسعة صباحا.",
        "اشترت أختي خبزا طازجا من السوق.",
        "أمطرت طوال الليل، لذلك الطرق مبللة.",
        "سنسافر إلى الجبال في الصيف القادم.",
        "الأطفال يقرؤون الكتب في الحديقة.",
        "من فضلك أغلق النافذة قبل أن تغادر.",
    ],
    "jpn_Jpan": [
        "図書館は朝九時に開きます。",
        "姉は市場で新鮮なパンを買いました。",
        "一晩中雨が降ったので、道が濡れています。",
        "来年の夏、私たちは山へ旅行します。",
        "子どもたちは庭で本を読んでいます。",
        "出かける前に窓を閉めてください。",
    ],
    "tha_Thai": [
        "ห้องสมุดเปิดตอนเก้าโมงเช้า",
        "พี่สาวของฉันซื้อขนมปังสดที่ตลาด",
        "ฝนตกทั้งคืน ถนนจึงเปียก",
        "ฤดูร้อนหน้าเราจะไปเที่ยวภูเขา",
        "เด็ก ๆ กำลังอ่านหนังสืออยู่ในสวน",
        "กรุณาปิดหน้าต่างก่อนออกไป",
    ],
}
#: The canonical BCP 47 tag of each file: ISO 639-1 where there is one, Standard Arabic as Arabic (CLDR), the
#: script dropped where the language is always written in it, kept where it is not (Chinese).
CANONICAL = {"eng_Latn": "en", "deu_Latn": "de", "zho_Hans": "zh-Hans", "arb_Arab": "ar", "jpn_Jpan": "ja",
             "tha_Thai": "th"}


def write_flores_folder(folder: Path) -> Path:
    """``folder`` with one ``<code>_<Script>.txt`` file per language, line-aligned."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in SENTENCES.items():
        (folder / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
