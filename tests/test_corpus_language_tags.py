"""Language tags: the ISO 639-3 / FLORES-200 spellings of a language meet its ISO 639-1 one (CLDR's
canonicalization), and which file stems name a language."""

from __future__ import annotations

import pytest
from _flores_text import CANONICAL

from tokensmith.corpus.language_tags import (
    ISO_639_1,
    ISO_639_2_TO_1,
    ISO_15924,
    MACROLANGUAGE_ALIASES,
    SUPPRESS_SCRIPT,
    basic_filter,
    canonical_language,
    guess_language,
    resolve_language,
    resolve_languages,
)
from tokensmith.errors import InputError

SPELLINGS = {
    # ISO 639-2 terminology and bibliographic codes of ISO 639-1 languages
    "eng": "en", "deu": "de", "ger": "de", "zho": "zh", "chi": "zh", "fra": "fr", "fre": "fr", "ces": "cs",
    "cze": "cs", "nld": "nl", "dut": "nl", "fas": "fa", "per": "fa", "ENG": "en", "Deu-AT": "de-AT",
    # individual languages CLDR writes as their macrolanguage
    "arb": "ar", "cmn": "zh", "zsm": "ms", "pes": "fa", "swh": "sw", "npi": "ne", "uzn": "uz", "khk": "mn",
    "ydd": "yi", "gaz": "om", "cmn_Hant_TW": "zh-Hant-TW", "zh-cmn-Hans": "zh-Hans", "zh-guoyu": "zh",
    "ar-arb": "ar",
    # a script the language is always written in is dropped, a meaningful one kept
    "en-Latn": "en", "de-Latn": "de", "ru-Cyrl": "ru", "ja-Jpan": "ja", "pa-Guru": "pa", "en-Latn-US": "en-US",
    "zh-Hans": "zh-Hans", "zh_hant": "zh-Hant", "sr-Latn": "sr-Latn", "sr_Cyrl": "sr-Cyrl", "uz-Cyrl": "uz-Cyrl",
    "pa-Arab": "pa-Arab", "ja-Latn": "ja-Latn", "en-Shaw": "en-Shaw",
    # FLORES-200 / NLLB file names
    **CANONICAL, "zho_Hant": "zh-Hant", "yue_Hant": "yue-Hant", "srp_Cyrl": "sr-Cyrl", "uzn_Latn": "uz-Latn",
    "pbt_Arab": "pbt-Arab", "kor_Hang": "ko-Hang", "hin_Deva": "hi", "npi_Deva": "ne", "pes_Arab": "fa",
    "zsm_Latn": "ms", "khm_Khmr": "km", "ace_Arab": "ace-Arab", "ace_Latn": "ace-Latn", "aka_Latn": "ak-Latn",
    "twi_Latn": "tw-Latn", "tgl_Latn": "tl", "nob_Latn": "nb", "als_Latn": "sq", "kas_Deva": "ks-Deva",
}  # fmt: skip


@pytest.mark.parametrize(("spelling", "tag"), SPELLINGS.items())
def test_every_spelling_of_a_language_has_one_canonical_tag(spelling, tag):
    assert canonical_language(spelling) == tag
    assert canonical_language(tag) == tag  # canonical tags stay as they are


def test_individual_languages_whose_macrolanguage_has_its_own_iso_639_1_code_stay_apart():
    # FLORES-200 holds both Akan (aka_Latn) and Twi (twi_Latn): CLDR's tw -> ak would make them one language;
    # Cantonese, Dari and Tagalog are no spelling of Chinese, Persian or Filipino either
    assert canonical_language("twi_Latn") != canonical_language("aka_Latn")
    assert [canonical_language(code) for code in ("tw", "yue", "prs", "tl", "bh")] == ["tw", "yue", "prs", "tl", "bh"]


def test_the_tables_hold_what_their_sources_say():
    assert len(ISO_639_1) == 184 and all(len(code) == 2 for code in ISO_639_1)
    # every ISO 639-1 language has a terminology code; 20 have a bibliographic one besides
    assert len(ISO_639_2_TO_1) == 184 + 20 and all(len(code) == 3 for code in ISO_639_2_TO_1)
    assert not set(MACROLANGUAGE_ALIASES) & set(ISO_639_2_TO_1)
    assert set(SUPPRESS_SCRIPT.values()) <= ISO_15924 and {"Latn", "Hans", "Hant", "Jpan", "Thai"} <= ISO_15924
    for code in [*ISO_639_2_TO_1, *MACROLANGUAGE_ALIASES]:
        assert canonical_language(canonical_language(code)) == canonical_language(code)


def test_domain_labels_and_private_names_are_kept():
    for label in ("code", "legal", "biomedical", "x-008", "und"):
        assert canonical_language(label) == label


@pytest.mark.parametrize(
    ("stem", "lang"),
    [("eng_Latn", "en"), ("zho_Hans", "zh-Hans"), ("arb_Arab", "ar"), ("tha_Thai", "th"), ("jpn_Jpan", "ja"),
     ("eng-Latn", "en"), ("ace_Latn", "ace-Latn"), ("yue_Hant", "yue-Hant"), ("zho_Hant_TW", "zh-Hant-TW"),
     ("de", "de"), ("pt_BR", "pt-BR"), ("sr_Latn", "sr-Latn"), ("eng_Latn.devtest", "en"), ("zho_Hans.dev", "zh-Hans")],
)  # fmt: skip
def test_a_stem_of_a_code_and_a_script_names_its_language(stem, lang):
    assert guess_language(stem) == lang


@pytest.mark.parametrize(
    "stem",
    # bare three-letter stems, even ISO 639-2 codes of ISO 639-1 languages (cat, run, may, per are words
    # too); a second part that is no ISO 15924 script, or not written as one
    ["eng", "deu", "log", "out", "all", "cat", "run", "may", "per", "all_data", "log_Data", "run_test",
     "out_2024", "ENG_LATN", "eng_latn", "README", "notes", "my.notes", "de.old", "eng.dev", "all_data.v2"],
)  # fmt: skip
def test_stems_that_may_be_words_name_no_language(stem):
    assert guess_language(stem) is None


FLORES_FOLDER = ["en", "ko-Hang", "yo-Latn", "uz-Latn", "ha-Latn", "zh-Hans", "zh-Hant", "en-GB", "sr-Latn-RS"]


@pytest.mark.parametrize(
    ("requested", "matches"),
    [
        # a tag names the available tags that extend it by subtags (RFC 4647 basic filtering)...
        ("ko", ["ko-Hang"]), ("kor", ["ko-Hang"]), ("kor_Hang", ["ko-Hang"]), ("KO", ["ko-Hang"]),
        ("yo", ["yo-Latn"]), ("uzn", ["uz-Latn"]), ("ha", ["ha-Latn"]), ("zh", ["zh-Hans", "zh-Hant"]),
        ("cmn", ["zh-Hans", "zh-Hant"]), ("zh-Hant", ["zh-Hant"]), ("sr", ["sr-Latn-RS"]),
        ("sr-Latn", ["sr-Latn-RS"]),
        # ...but itself alone where it is available, however it is spelt (en-GB is a version of en, not en)
        ("en", ["en"]), ("eng_Latn", ["en"]), ("en-GB", ["en-GB"]),
        # prefixes of whole subtags only, and never a more specific tag than the available one
        ("e", []), ("z", []), ("zh-H", []), ("ko-KP", []), ("ko-Hang-KR", []), ("en-US", []), ("sr-Cyrl", []),
        ("uz-Cyrl", []), ("de", []),
    ],
)  # fmt: skip
def test_a_requested_tag_names_the_available_tags_it_is_a_prefix_of(requested, matches):
    assert basic_filter(requested, FLORES_FOLDER) == matches


def test_a_private_use_tag_is_named_only_in_full():
    # en-x-2.txt is the second version of English the folder holds (as language_files' hint suggests): the
    # private distinction is the author's, so `en` does not silently pick it (nor the stem en-x, no tag)
    assert basic_filter("en", ["en-x-2", "en-x", "en-GB-x-old", "x-en"]) == []
    assert basic_filter("en-x-2", ["en-x-2", "en-x-2-b"]) == ["en-x-2"]
    assert basic_filter("x-cmn", ["x-cmn-hans"]) == []
    assert basic_filter("en", ["en-x-2", "en-GB"]) == ["en-GB"]


def test_a_tag_resolves_to_its_one_match_or_names_the_choices():
    assert resolve_language("kor_Hang", FLORES_FOLDER, "the folder") == "ko-Hang"
    assert resolve_language("de", FLORES_FOLDER, "the folder") is None
    with pytest.raises(InputError, match=r"'zh' names 2 languages of the folder: zh-Hans, zh-Hant") as raised:
        resolve_language("zh", FLORES_FOLDER, "the folder")
    assert "pass the full tag" in raised.value.hint and "zh-Hans" in raised.value.hint
    with pytest.raises(InputError, match=r"'en' names 2 languages of .*: en-GB, en-US"):
        resolve_language("en", ["en-GB", "en-US", "de"], "the parallel corpus flores")
    assert resolve_languages(["ko", "eng", "en", "yo-Latn", "de"], FLORES_FOLDER, "the folder") == {
        "ko": "ko-Hang", "en": "en", "yo-Latn": "yo-Latn", "de": None}
    # two languages asked for meet in one file: each would be measured (or trained) on the other's text
    with pytest.raises(InputError, match=r"'ko' and 'ko-Hang' both name ko-Hang of the folder"):
        resolve_languages(["ko", "ko-Hang"], FLORES_FOLDER, "the folder")
