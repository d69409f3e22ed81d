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


#: More languages, in files whose canonical tag keeps the script (the IANA registry gives Korean, Yoruba,
#: Hausa and Uzbek no Suppress-Script; Chinese is written in two): ``--lang ko`` must still find kor_Hang.txt.
SCRIPT_KEPT_SENTENCES = {
    "kor_Hang": [
        "도서관은 아침 아홉 시에 문을 엽니다.",
        "우리 언니는 시장에서 신선한 빵을 샀어요.",
        "밤새 비가 와서 길이 젖었어요.",
        "우리는 내년 여름에 산으로 여행을 갈 거예요.",
        "아이들이 정원에서 책을 읽고 있어요.",
        "나가기 전에 창문을 닫아 주세요.",
    ],
    "zho_Hant": [
        "圖書館早上九點開門。",
        "我姐姐在市場買了新鮮的麵包。",
        "下了一整夜的雨，所以路面是濕的。",
        "明年夏天我們要去山裡旅行。",
        "孩子們在花園裡看書。",
        "離開之前請關上窗戶。",
    ],
    "yor_Latn": [
        "Ilé-ìkàwé máa ń ṣí ní aago mẹ́sàn-án òwúrọ̀.",
        "Ẹ̀gbọ́n mi obìnrin ra búrẹ́dì tuntun ní ọjà.",
        "Òjò rọ̀ ní gbogbo òru, nítorí náà ọ̀nà tutù.",
        "A ó rìnrìn àjò lọ sí orí òkè ní ìgbà ẹ̀ẹ̀rùn tó ń bọ̀.",
        "Àwọn ọmọdé ń ka ìwé nínú ọgbà.",
        "Jọ̀wọ́ ti fèrèsé kí o tó lọ.",
    ],
    "hau_Latn": [
        "Ɗakin karatu yana buɗewa da ƙarfe tara na safe.",
        "'Yar'uwata ta sayi sabon burodi a kasuwa.",
        "An yi ruwan sama dukan dare, don haka hanyoyi sun jiƙe.",
        "Za mu yi tafiya zuwa duwatsu a lokacin zafi mai zuwa.",
        "Yara suna karanta littattafai a cikin lambu.",
        "Don Allah ka rufe taga kafin ka tafi.",
    ],
    "uzn_Latn": [
        "Kutubxona ertalab soat to'qqizda ochiladi.",
        "Opam bozordan yangi non sotib oldi.",
        "Tun bo'yi yomg'ir yog'di, shuning uchun yo'llar ho'l.",
        "Kelasi yozda biz tog'larga sayohat qilamiz.",
        "Bolalar bog'da kitob o'qishyapti.",
        "Ketishdan oldin derazani yoping, iltimos.",
    ],
}
SCRIPT_KEPT_CANONICAL = {"kor_Hang": "ko-Hang", "zho_Hant": "zh-Hant", "yor_Latn": "yo-Latn",
                         "hau_Latn": "ha-Latn", "uzn_Latn": "uz-Latn"}


def write_parallel_files(folder: Path, names: list[str]) -> Path:
    """``folder`` with the ``<name>.txt`` file of each FLORES-200 name (of either table), line-aligned."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        lines = {**SENTENCES, **SCRIPT_KEPT_SENTENCES}[name]
        (folder / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
