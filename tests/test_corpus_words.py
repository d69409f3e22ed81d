"""Word segmentation for fertility: UAX #29 for spaced scripts, real segmenters for zh/ja/th, refusals."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
import regex
from _django_text import django_messages, django_translations
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensmith.corpus import NotApplicable, UnicodeWordSegmenter, word_segmenter
from tokensmith.corpus.words import primary_subtag, unspaced_share
from tokensmith.metrics.word_split import WordSplitter

LETTERS_AND_DIGITS = regex.compile(r"[\p{L}\p{Nd}]")


def letters(text: str) -> list[str]:
    return LETTERS_AND_DIGITS.findall(text)


def test_english_words_by_hand():
    text = "Don't panic: it's 3.14 o'clock, e.g. U.S.A.-based co-op! The cat and the hat."
    expected = ["Don't", "panic", "it's", "3.14", "o'clock", "e.g", "U.S.A", "based", "co", "op"]
    expected += ["The", "cat", "and", "the", "hat"]
    segmenter = word_segmenter("en")
    assert isinstance(segmenter, UnicodeWordSegmenter) and segmenter.spaced
    assert segmenter.segment(text) == expected
    assert segmenter.count_words([text, "the hat"]) == Counter(expected) + Counter(["the", "hat"])


def test_punctuation_and_symbols_are_not_words():
    segmenter = word_segmenter("de")
    assert segmenter.count_words(["— … 42 %, ___ →  «Straße»"]) == Counter({"42": 1, "Straße": 1})


def test_marks_and_format_characters_before_a_word():
    segmenter = word_segmenter("ar")
    # An RLM or a stray mark after a space belongs to the space (UAX #29 rule WB4), not to the word.
    assert segmenter.count_words(["x \u200fRAID \u064bأو"]) == Counter({"x": 1, "RAID": 1, "أو": 1})


def test_registered_segmenters_on_tiny_hand_checked_examples():
    pytest.importorskip("rjieba")
    zh = word_segmenter("zh-Hans")
    assert not zh.spaced and zh.name == "rjieba"
    assert zh.segment("我们在北京大学学习。") == ["我们", "在", "北京大学", "学习"]
    pytest.importorskip("fugashi")
    ja = word_segmenter("ja")
    assert ja.count_words(["東京タワーへ行く。", "東京"]) == Counter({"東京": 2, "タワー": 1, "へ": 1, "行く": 1})
    pytest.importorskip("pythainlp")
    th = word_segmenter("th-TH")
    assert th.segment("ภาษาไทยเป็นภาษาที่สวยงาม") == ["ภาษาไทย", "เป็น", "ภาษา", "ที่", "สวยงาม"]


def test_a_long_chinese_line_is_given_to_jieba_in_pieces(monkeypatch):
    """A document without line breaks (a file read whole): jieba made one list of every piece of it (a
    10M-character line: 0.9 GB), now it reads one piece of at most MECAB_MAX_CHARS at a time, cut after a
    sentence end, where jieba cuts anyway, so the words are the same."""
    rjieba = pytest.importorskip("rjieba")
    import tokensmith.corpus.words as words

    sentences = ["我们在北京大学学习。", "Pokémon很好玩！", "今天天气很好，12,000元。"] * 20_000
    line = "".join(sentences)
    assert len(line) > 3 * words.MECAB_MAX_CHARS
    expected = word_segmenter("zh").count_words(sentences)
    given: list[int] = []
    cut = rjieba.cut
    monkeypatch.setattr(rjieba, "cut", lambda text: given.append(len(text)) or cut(text))
    assert word_segmenter("zh").count_words([line]) == expected
    assert len(given) > 3 and max(given) <= words.MECAB_MAX_CHARS


def test_japanese_text_keeps_numbers_and_names_in_latin_whole():
    """MeCab cuts 2.5 at its point, 1,000 at its comma and letters from digits (GPT-4o: GPT, 4, o; A1, 3D):
    1.2% more words in ja.txt of ../shared/data than UAX #29 finds in the same Latin text elsewhere."""
    pytest.importorskip("fugashi")
    ja = word_segmenter("ja")
    assert ja.segment("2.5kgの1,000円でGPT-4oとPokémon、セルA1") == [
        "2.5kg", "の", "1,000", "円", "で", "GPT", "4o", "と", "Pokémon", "セル", "A1"]
    assert ja.segment("東京　大阪\t京都") == ["東京", "大阪", "京都"]  # spaces MeCab drops do not join words
    assert ja.count_words(["Python 3.11で書いた", "Python"]) == Counter({"Python": 2, "3.11": 1, "で": 1, "書い": 1,
                                                                      "た": 1})


def test_chinese_text_keeps_its_words_in_other_scripts_whole():
    """jieba cuts words at every letter it does not know (é, Cyrillic, Hangul, pinyin's tone marks) and
    numbers at their commas: pinyin tagged zh-Latn came out 34 "words" for 6. Text between Han words gets
    UAX #29, as in spaced text; jieba's own words (T恤, 卡拉OK's 卡拉) stay."""
    pytest.importorskip("rjieba")
    zh = word_segmenter("zh")
    assert zh.segment("我喜欢Pokémon，在Москве学习。12,000元的T恤，한국어도 don't") == [
        "我", "喜欢", "Pokémon", "在", "Москве", "学习", "12,000", "元", "的", "T恤", "한국어도", "don't"]
    pinyin = "Wǒ ài Běijīng Tiān'ānmén, nǐ ne?"
    assert word_segmenter("zh-Latn", sample=[pinyin]).segment(pinyin) == UnicodeWordSegmenter().segment(pinyin)
    expected = Counter({"Café": 2, "au": 1, "lait": 1, "很": 1, "好喝": 1})
    assert zh.count_words(["Café au lait很好喝。", "Café"]) == expected


@pytest.mark.parametrize(("lang", "module"), [("zh-TW", "rjieba"), ("ja", "fugashi"), ("th", "pythainlp.tokenize")])
def test_missing_package_is_not_applicable_with_the_extra(monkeypatch, lang, module):
    import tokensmith.corpus.words as words

    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    words._mecab_tagger.cache_clear()
    result = word_segmenter(lang)
    words._mecab_tagger.cache_clear()
    assert isinstance(result, NotApplicable) and not result
    assert "install tokensmith[words]" in result.reason and module.split(".")[0] in result.reason


def test_khmer_and_lao_are_not_applicable_by_tag_and_by_script():
    khmer, lao = "សួស្តីពិភពលោក", "ສະບາຍດີໂລກ"
    for lang in ("km", "lo", "my-MM"):
        result = word_segmenter(lang)
        assert isinstance(result, NotApplicable) and "written without spaces" in result.reason
    for text in (khmer, lao, "中文文本没有空格"):
        result = word_segmenter("und", sample=[text])
        assert isinstance(result, NotApplicable) and "without spaces" in result.reason
    one_han = "English text, long enough that its one Chinese character is a stray name: 字"
    assert isinstance(word_segmenter("und", sample=[one_han]), UnicodeWordSegmenter)


def test_a_few_percent_of_unsegmented_letters_are_refused():
    """English with 150 Chinese lines (4% of the letters) tagged en: UAX #29 makes each Han character a word,
    10% more words than a Chinese segmenter finds there, so the count is refused, not silently wrong."""
    pytest.importorskip("rjieba")
    messages = django_messages("zh_Hans")
    english, chinese = [msgid for msgid, _ in messages], [msgstr for _, msgstr in messages][:150]
    assert 0.03 < unspaced_share(english + chinese) < 0.05
    by_character = sum(len(UnicodeWordSegmenter().segment(line)) for line in english + chinese)
    by_word = sum(len(UnicodeWordSegmenter().segment(line)) for line in english)
    by_word += sum(len(word_segmenter("zh").segment(line)) for line in chinese)
    assert by_character > 1.05 * by_word
    for tag in ("en", "und"):
        refused = word_segmenter(tag, sample=english + chinese)
        assert isinstance(refused, NotApplicable) and "Han" in refused.reason and "4.1%" in refused.reason
    assert "as a corpus of its own" in word_segmenter("en", sample=english + chinese).reason  # the tag is right
    assert isinstance(word_segmenter("en", sample=english + chinese[:20]), UnicodeWordSegmenter)  # 0.5%


def test_an_unspaced_language_in_a_spaced_script_gets_its_words_counted():
    """Tibetan in Wylie (bo-Latn) and Cantonese in Jyutping (yue-Latn) are written with spaces: the script
    subtag says so, and UAX #29 counts them; the language's own script, or none named, stays n/a."""
    wylie, jyutping = "bod kyi skad yig ni skad yig cig yin", "ngo5 dei6 gam1 jat6 heoi3 jam2 caa4"
    assert word_segmenter("bo-Latn", sample=[wylie]).segment(wylie) == wylie.split()
    assert word_segmenter("yue_latn_HK", sample=[jyutping]).segment(jyutping) == jyutping.split()
    for lang in ("bo", "bo-Tibt", "yue-Hant", "km-KH"):
        assert isinstance(word_segmenter(lang), NotApplicable)
    refused = word_segmenter("km-Latn", sample=["ក្មេងៗបានទៅសាលារៀន"])  # the text belies the tag
    assert isinstance(refused, NotApplicable) and "Khmer" in refused.reason
    # without a script subtag the text decides: romanised Tibetan tagged bo is spaced, Tibetan script is not
    assert word_segmenter("bo", sample=[wylie]).segment(wylie) == wylie.split()
    assert isinstance(word_segmenter("bo", sample=["བོད་ཀྱི་སྐད་ཡིག"]), NotApplicable)
    assert isinstance(word_segmenter("km", sample=["123 456"]), NotApplicable)  # no letters: the tag decides


def test_romanised_chinese_japanese_and_thai_are_spaced_text_as_other_romanised_tags():
    """zh-Latn (pinyin), ja-Latn (romaji) and th-Latn got jieba, MeCab and newmm, named so in results.json,
    and their words were encoded without the space they follow in running text (``spaced`` False), unlike
    bo-Latn and yue-Latn: a tag naming a spaced script gets UAX #29, whatever the language."""
    pytest.importorskip("rjieba")
    pytest.importorskip("fugashi")
    pytest.importorskip("pythainlp")
    romanised = {"zh-Latn": "Wǒ shì xuéshēng, nǐ ne?", "ja_latn_JP": "Watashi wa gakusei desu. Tōkyō e ikimasu!",
                 "th-Latn": "Phasa Thai pen phasa ratchakan"}
    for tag, text in romanised.items():
        segmenter = word_segmenter(tag, sample=[text])
        assert isinstance(segmenter, UnicodeWordSegmenter) and segmenter.spaced, tag
        assert segmenter.segment(text) == UnicodeWordSegmenter().segment(text)
    for tag in ("zh-Hant-TW", "zh-Hans", "ja-Jpan", "ja-Hira", "th-Thai", "zh", "th-x-news", "ja-JP-x-wiki"):
        assert not word_segmenter(tag).spaced, tag  # x-news is private use, no script
    refused = word_segmenter("zh-Latn", sample=["我们今天去北京大学参观"])  # the text belies the tag
    assert isinstance(refused, NotApplicable) and "Han" in refused.reason
    assert "names a script written with spaces (Latn): tag the corpus 'zh'" in refused.reason


def test_the_refusal_advises_a_new_tag_only_for_an_untagged_text():
    javanese = "ꦧꦱꦗꦮꦲꦶꦏꦸꦧꦱꦱꦶꦁꦢꦶꦔꦼꦤ꧀ꦢꦺꦴꦮꦺꦴꦁꦗꦮ"
    assert "tag the corpus with its language" in word_segmenter("und", sample=[javanese]).reason
    tagged = word_segmenter("jv", sample=[javanese]).reason  # rightly tagged: no segmenter for its script
    assert "Javanese" in tagged and "tag the corpus with its language" not in tagged


#: Text in scripts written without spaces between words that UAX #29 leaves as whole phrases (Buginese,
#: Batak, Makasar and Kawi have scriptio continua) or cuts into one "word" per character (Tangut, Nüshu,
#: Khitan Small Script).
UNSPACED_SAMPLES = {
    "Buginese": "ᨅᨔᨕᨘᨁᨗᨊᨗᨈᨕᨘᨑᨗᨔᨘᨒᨓᨙᨔᨗ᨞ ᨕᨗᨐᨕᨙᨆᨙᨀᨛᨊᨂᨈᨀᨅᨔ᨞",
    "Batak": "ᯘᯮᯒᯖ᯲ᯅᯖᯂ᯲ᯀᯉᯪ ᯂᯮᯖ᯲ᯂᯇᯮᯂ᯲ᯘᯮᯒᯖ᯲ᯅᯖᯂ᯲ᯀᯉᯪᯇᯰᯖᯬᯂ᯲",
    "Makasar": "\U00011EE0\U00011EE1\U00011EE2\U00011EE3\U00011EE4\U00011EE5\U00011EE6\U00011EE7",
    "Kawi": "\U00011F04\U00011F05\U00011F12\U00011F13\U00011F14\U00011F15\U00011F16\U00011F17",
    "Tangut": "\U00017000\U00017001\U00017002\U00017003\U00017004\U00017005",
    "Nushu": "\U0001B170\U0001B171\U0001B172\U0001B173\U0001B174\U0001B175",
    "Khitan Small Script": "\U00018B00\U00018B01\U00018B02\U00018B03\U00018B04\U00018B05",
}


def test_every_script_of_complex_context_or_ideographic_letters_is_in_the_guard():
    """Unicode's own marks of text without spaces between words: letters of line-break class SA (complex
    context: Thai... Ahom) and ideographic letters (Han, Tangut, Nushu, Khitan Small Script). UAX #29 cuts
    both into one "word" per character, so every script holding them must be in the guard."""
    from tokensmith.corpus.words import UNSPACED_SCRIPTS
    from tokensmith.metrics.vocab_composition import UNICODE_SCRIPTS

    every = "".join(map(chr, range(0x110000)))
    unspaced = "".join(regex.findall(r"(?V1)[\p{L}&&[\p{Line_Break=SA}\p{Ideographic}]]", every))
    scripts = {script for script in UNICODE_SCRIPTS if regex.search(rf"\p{{Script={script}}}", unspaced)}
    scripts -= {"Common"}  # 〆, shared by Chinese and Japanese text
    assert {"Thai", "Khmer", "Han", "Tangut"} <= scripts
    assert scripts <= set(UNSPACED_SCRIPTS), scripts - set(UNSPACED_SCRIPTS)


@pytest.mark.parametrize("script", UNSPACED_SAMPLES)
@pytest.mark.parametrize("lang", ["und", "bug", "bbc"])
def test_scriptio_continua_and_unspaced_historic_scripts_are_refused(script, lang):
    """UAX #29 counted a whole Buginese or Batak phrase as one "word" (fertility 55 with gpt2) and each
    Tangut character as one: these scripts are in the guard, whatever the tag (bug and bbc are mostly
    written in Latin letters, which stay counted)."""
    text = UNSPACED_SAMPLES[script]
    assert regex.fullmatch(rf"[\p{{Script={script.replace(' ', '_')}}}\s\p{{P}}\p{{M}}]+", text)
    refused = word_segmenter(lang, sample=[text])
    assert isinstance(refused, NotApplicable) and script in refused.reason, refused
    latin = "Mappakalebbi'i tau maega"
    assert word_segmenter(lang, sample=[latin]).segment(latin) == latin.split()


def test_a_narrow_no_break_space_joins_words_as_uax29_says_in_counts_too():
    """U+202F NARROW NO-BREAK SPACE is whitespace to ``str.split`` but ExtendNumLet to UAX #29 (WB13a/b): a
    French ``1\u202f234`` and a Mongolian stem and suffix are one word each (as ICU's word breaker says too).
    Counting by whitespace chunks cut there, and counted two words where ``segment`` found one. At a word's
    end it is spacing (``Bonjour\u202f!``): trimmed, or every such word would count as split into tokens."""
    segmenter = UnicodeWordSegmenter("fr")
    french, mongolian = "Il coûte 1\u202f234,56\u00a0€ ; «\u202fBonjour\u202f!\u202f»", "ᠮᠣᠩᠭᠣᠯ\u202fᠤᠨ ᠬᠡᠯᠡ"
    assert segmenter.segment(french) == ["Il", "coûte", "1\u202f234,56", "Bonjour"]  # no trailing U+202F
    assert segmenter.segment(mongolian) == ["ᠮᠣᠩᠭᠣᠯ\u202fᠤᠨ", "ᠬᠡᠯᠡ"]
    for text in (french, mongolian, "a \u202f b", "\u202f\u202f", "x\u202f", "x\u202f\u202fy\u202f\u202f"):
        assert segmenter.count_words([text, text]) == Counter(segmenter.segment(text) * 2), text


#: Thai with abbreviations (พ.ศ. "Buddhist Era" dates nearly every Thai text; ธ.ค. December, ดร. Dr.) and
#: the repetition mark after a space (ต่าง ๆ, one entry of pythainlp's dictionary).
THAI_WITH_ABBREVIATIONS = [
    "เมื่อวันที่ 5 ธ.ค. พ.ศ. 2567 ดร.สมชาย ไปกรุงเทพฯ",
    "ประเทศต่าง ๆ ในเอเชียมีวัฒนธรรมหลากหลาย",
    "ส.ส. และ ส.ว. ประชุมกันที่รัฐสภา. ต่อมาก็กลับบ้าน",
]


def test_thai_abbreviations_and_spaced_repetition_marks_are_one_word_as_newmm_says():
    """Thai runs were cut at every period and space before newmm saw them, so พ.ศ. counted two words (พ, ศ)
    and ต่าง ๆ two, where pythainlp's newmm, the engine named in results.json, finds one of each."""
    pytest.importorskip("pythainlp")
    from pythainlp.tokenize import word_tokenize

    segmenter = word_segmenter("th")
    assert segmenter.segment(THAI_WITH_ABBREVIATIONS[0])[3:6] == ["ธ.ค.", "พ.ศ.", "2567"]
    for line in THAI_WITH_ABBREVIATIONS:
        newmm = [w for w in word_tokenize(line, engine="newmm", keep_whitespace=False) if regex.search(r"\w", w)]
        assert segmenter.segment(line) == newmm, line
    # a sentence-final period is kept from newmm, which would match the abbreviation น. in it (งา, น.)
    assert segmenter.segment("เขาไปทำงาน. ตรวจสอบเอกสาร.") == ["เขา", "ไป", "ทำงาน", "ตรวจสอบ", "เอกสาร"]
    assert segmenter.count_words(THAI_WITH_ABBREVIATIONS) == Counter(
        w for line in THAI_WITH_ABBREVIATIONS for w in segmenter.segment(line)
    )


def test_language_tag_normalisation():
    assert [primary_subtag(t) for t in ("zh-Hant-TW", "ZH_cn", "cmn", "jpn", "pt-BR")] == ["zh", "zh", "zh", "ja", "pt"]
    assert unspaced_share(["abc"]) == 0.0 and unspaced_share(["ab中文"]) == 0.5


def test_unspaced_share_counts_letters_only():
    # ที่นี่: 2 Thai letters, each with a vowel sign and a tone mark (marks, not letters): at most 1
    assert unspaced_share(["ที่นี่"]) == 1.0
    assert unspaced_share(["ที่นี่ ab"]) == 0.5
    assert unspaced_share(["ab", "12 !", "中文"]) == 0.5  # across documents; digits and punctuation ignored


def test_counts_feed_the_metrics_word_splitter():
    segmenter = word_segmenter("en")
    counts = segmenter.count_words(["tokenization is fun", "fun fun"])

    def encode_batch(texts):  # one token per 4 characters, a stand-in with a known answer
        return [[0] * (len(t) // 4 + 1) for t in texts]

    split = WordSplitter(encode_batch, leading_space=False).split(counts)
    assert (split.words, split.multi_token_words) == (5, 1)  # only "tokenization" (12 chars) has 2+ tokens


# -- properties ------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), max_size=8))
def test_words_cover_every_letter_and_batch_counting_equals_segmenting(texts):
    segmenter = UnicodeWordSegmenter()
    for text in texts:
        assert letters("".join(segmenter.segment(text))) == letters(text)
    direct = Counter(w for text in texts for w in segmenter.segment(" ".join(text.split())))
    assert segmenter.count_words(texts) == direct


@pytest.mark.shared
@pytest.mark.parametrize("lang", ["en", "de", "ru", "ar", "hi", "ko", "vi", "el", "he", "ta"])
def test_real_text_batch_counting_equals_direct_segmentation(shared_data, lang):
    lines = (shared_data / "mono" / f"{lang}.txt").read_text(encoding="utf-8").split("\n")[:3000]
    segmenter = word_segmenter(lang, sample=lines)
    assert isinstance(segmenter, UnicodeWordSegmenter)
    direct = Counter(w for line in lines for w in segmenter.segment(" ".join(line.split())))
    assert segmenter.count_words(lines) == direct
    assert sum(direct.values()) > 1000


@pytest.mark.shared
@pytest.mark.parametrize("lang", ["zh-CN", "zh-TW", "ja", "th"])
def test_real_unspaced_text_words_cover_the_letters(shared_data, lang):
    segmenter = word_segmenter(lang)
    if isinstance(segmenter, NotApplicable):
        pytest.skip(segmenter.reason)
    lines = (shared_data / "parallel" / f"{lang}.txt").read_text(encoding="utf-8").split("\n")[:400]
    for line in lines:
        assert letters("".join(segmenter.segment(line))) == letters(line)
    counts = segmenter.count_words(lines)
    # Real segmentation: multi-character words exist, and words are fewer than letters.
    assert any(len(w) > 1 and unspaced_share([w]) == 1 for w in counts)
    assert sum(counts.values()) < sum(len(letters(line)) for line in lines)


@pytest.mark.shared
@pytest.mark.parametrize("lang", ["km", "lo", "my", "bo"])
def test_real_udhr_unspaced_scripts_are_refused_even_untagged(shared_data, lang):
    text = (shared_data / "parallel" / "udhr" / f"{lang}.txt").read_text(encoding="utf-8").split("\n")[:32]
    assert isinstance(word_segmenter(lang), NotApplicable)
    refused = word_segmenter("und", sample=text)
    assert isinstance(refused, NotApplicable), f"{lang}: {unspaced_share(text):.2f} unspaced"


@pytest.mark.shared
@pytest.mark.parametrize(("name", "script"), [("blt", "Tai Viet"), ("x-kkh_lana", "Tai Tham"), ("ii", "Yi"),
                                              ("x-jav_java", "Javanese")])
def test_more_scripts_without_spaces_are_refused(shared_data, name, script):
    """UAX #29 made one "word" of each Tai Viet or Tai Tham letter (as many words as letters) and one of
    each space-delimited phrase of Yi or Javanese script (14 and 27 letters a "word"): no fertility."""
    text = (shared_data / "parallel" / "udhr" / f"{name}.txt").read_text(encoding="utf-8").split("\n")[:32]
    refused = word_segmenter("und", sample=text)
    assert isinstance(refused, NotApplicable) and script in refused.reason, refused


@pytest.mark.shared
def test_thai_rust_newmm_agrees_with_pythainlp_on_real_thai_runs(shared_data):
    pytest.importorskip("nlpo3")
    pytest.importorskip("pythainlp")
    import nlpo3
    from pythainlp.tokenize import word_tokenize

    from tokensmith.corpus.words import _THAI_RUN, _nlpo3_dictionary

    assert word_segmenter("th").name == "nlpo3-newmm"
    text = (shared_data / "mono" / "th.txt").read_text(encoding="utf-8")
    runs = sorted({run for run in _THAI_RUN.findall(text) if len(run) > 1})[:3000]
    assert len(runs) == 3000
    dictionary = _nlpo3_dictionary()
    same = sum(nlpo3.segment(run, dictionary) == word_tokenize(run, engine="newmm") for run in runs)
    assert same >= 0.999 * len(runs)


@pytest.mark.shared
@pytest.mark.parametrize("lang", ["zh-CN", "ja", "th"])
def test_unspaced_words_do_not_depend_on_how_lines_are_grouped(shared_data, lang):
    segmenter = word_segmenter(lang)
    if isinstance(segmenter, NotApplicable):
        pytest.skip(segmenter.reason)
    lines = (shared_data / "parallel" / f"{lang}.txt").read_text(encoding="utf-8").split("\n")[:600]
    per_line = segmenter.count_words(lines)
    documents = ["\n".join(lines[i : i + 50]) for i in range(0, len(lines), 50)]
    assert segmenter.count_words(documents) == per_line
    assert per_line == Counter(w for document in documents for w in segmenter.segment(document))


# -- the script guard against wrong tags and mixed corpora (Django's catalogues: Burmese, Khmer) ----------
@pytest.mark.parametrize("text_locale", ["my", "km"])
@pytest.mark.parametrize("tag", ["zh", "zh-Hant", "ja", "th"])
def test_a_wrong_tag_with_a_segmenter_for_another_script_is_refused(tag, text_locale):
    """rjieba, MeCab and newmm leave Burmese or Khmer one "word" per letter: a text tagged zh/ja/th but
    written in those scripts gets no fertility, not a wrong one."""
    lines = django_translations(text_locale)
    assert unspaced_share(lines) > 0.7
    segmenter = word_segmenter(tag)
    if isinstance(segmenter, NotApplicable):
        pytest.skip(segmenter.reason)
    refused = word_segmenter(tag, sample=lines)
    words = sum(segmenter.count_words(lines).values())
    assert isinstance(refused, NotApplicable), f"{segmenter.name} would count {words} words"
    assert tag in refused.reason and "without spaces" in refused.reason


def test_the_guard_samples_the_whole_first_batch_not_its_start():
    """A folder of an English file, then a Burmese one with more letters: the guard's sample is spread over
    all the text, not its first 200,000 characters (which are all English)."""
    english = [msgid for msgid, _ in django_messages("de")] * 10
    burmese = django_translations("my") * 300
    text = english + burmese
    assert sum(map(len, english)) > 200_000
    assert unspaced_share(english) == 0 and unspaced_share(text, max_chars=10**9) > 0.5
    refused = word_segmenter("und", sample=text)
    assert isinstance(refused, NotApplicable) and "Myanmar" in refused.reason
    assert isinstance(word_segmenter("und", sample=english), UnicodeWordSegmenter)


def _letter_counts_by_regex(sample: str, segmented: tuple[str, ...]) -> tuple[int, int, set[str]]:
    """The guard's counts the slow, obvious way: a regex over every character."""
    from tokensmith.corpus.words import UNSPACED_SCRIPTS

    letters_only = regex.sub(r"\P{L}+", "", sample)
    scripts = [s for s in UNSPACED_SCRIPTS if s not in segmented]
    found = {s for s in scripts if regex.search(rf"\p{{{s}}}", letters_only)}
    unsegmented = len(regex.findall("[" + "".join(rf"\p{{{s}}}" for s in scripts) + "]", letters_only))
    return len(letters_only), unsegmented, found


GUARD_ALPHABET = st.sampled_from(
    "aZ é\u0301ß中文𠀀あアกี่ລາວខ្មែរမြန်ཀ་ꆈ\u1980ꪀᨠ𑜀ꦄᬅ\u200d\ud800١٢اب\u0e47\n\t🙂x9"
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.text(GUARD_ALPHABET, max_size=60),
       st.sampled_from([(), ("Han", "Hiragana", "Katakana"), ("Thai",), ("Han",)]))
def test_the_guard_counts_letters_and_scripts_as_a_regex_over_every_character(sample, segmented):
    from tokensmith.corpus.words import _letter_counts

    assert _letter_counts(sample, segmented) == _letter_counts_by_regex(sample, segmented)


@pytest.mark.shared
def test_the_guard_counts_real_text_of_every_parallel_and_udhr_language_as_the_regex_does(shared_data):
    from tokensmith.corpus.words import _letter_counts

    files = sorted((shared_data / "parallel").glob("*.txt")) + sorted((shared_data / "parallel" / "udhr").glob("*"))
    assert len(files) > 31
    for path in files:
        sample = path.read_text(encoding="utf-8")[:50_000]
        for segmented in [(), ("Han", "Hiragana", "Katakana")]:
            assert _letter_counts(sample, segmented) == _letter_counts_by_regex(sample, segmented), path.name
