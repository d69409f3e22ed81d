"""Parallel corpora: alignment check, blank-segment skipping, and same-index sampling."""

from __future__ import annotations

import shutil

import pytest

from tokensmith.corpus import count_lines, open_corpus, open_parallel, sample_parallel
from tokensmith.errors import CorpusError


def make_folder(root, files: dict[str, str]):
    root.mkdir(exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_aligned_folder_yields_the_same_segments(tmp_path):
    folder = make_folder(
        tmp_path / "par",
        {"en.txt": "one\ntwo\nthree\n", "de.txt": "eins\nzwei\ndrei", "index.tsv": "ignored\n"},
    )
    parallel = open_parallel(folder)
    assert parallel.langs == ["de", "en"] and parallel.total_lines == 3 and parallel.skipped_lines == ()
    assert list(parallel.iter_segments()) == [("eins", "one"), ("zwei", "two"), ("drei", "three")]
    assert list(parallel.corpus("en")) == ["one", "two", "three"]
    with pytest.raises(CorpusError, match="no 'fr' file"):
        parallel.corpus("fr")


def test_blank_line_in_any_language_skips_that_segment_everywhere(tmp_path):
    folder = make_folder(
        tmp_path / "par",
        {"en.txt": "one\ntwo\nthree\nfour\n", "de.txt": "eins\n \ndrei\nvier\n", "fr.txt": "un\ndeux\ntrois\n\n"},
    )
    parallel = open_parallel(folder)
    assert parallel.skipped_lines == (1, 3) and parallel.kept_lines == 2
    assert parallel.blank_counts == {"de": 1, "en": 0, "fr": 1}
    assert list(parallel.line_ids()) == [0, 2]
    assert [list(c) for c in parallel.corpora] == [["eins", "drei"], ["one", "three"], ["un", "trois"]]


def test_misaligned_folder_is_refused_naming_files_and_counts(tmp_path):
    folder = make_folder(tmp_path / "par", {"en.txt": "a\nb\nc\n", "de.txt": "a\nb\nc\n", "fr.txt": "a\nb\n"})
    expected = r"misaligned parallel corpus .*: fr\.txt: 2 lines; de\.txt, en\.txt: 3 lines"
    with pytest.raises(CorpusError, match=expected):
        open_parallel(folder)


def test_language_selection_and_bad_folders(tmp_path):
    folder = make_folder(tmp_path / "par", {"en.txt": "a\n", "de.txt": "b\n", "fr.txt": "c\n"})
    assert open_parallel(folder, langs=["fr", "en"]).langs == ["en", "fr"]
    with pytest.raises(CorpusError, match="no file for xx"):
        open_parallel(folder, langs=["en", "xx"])
    with pytest.raises(CorpusError, match="no such directory"):
        open_parallel(tmp_path / "missing")
    with pytest.raises(CorpusError, match="no <lang>.txt files"):
        open_parallel(make_folder(tmp_path / "empty", {"notes.md": "x"}))
    with pytest.raises(CorpusError, match="no line is non-blank"):
        open_parallel(make_folder(tmp_path / "blank", {"en.txt": "a\n\n", "de.txt": "\nb\n"}))
    # one language with no text at all is named (the message said only "no line is non-blank")
    with pytest.raises(CorpusError, match=r"non-blank in every language: yo\.txt holds only blank lines"):
        open_parallel(make_folder(tmp_path / "no_yo", {"en.txt": "a\nb\n", "yo.txt": "\n \n"}))


def test_a_txt_file_not_named_by_a_language_tag_is_refused(tmp_path):
    # README.txt was read as the language 'README' (measured, or the folder refused as misaligned).
    aligned = {"en.txt": "one\ntwo\n", "de.txt": "eins\nzwei\n", "notes.md": "ignored\n", "index.tsv": "x\n"}
    folder = make_folder(tmp_path / "par", {**aligned, "README.txt": "a\nb\n", "LICENSE.txt.gz": ""})
    with pytest.raises(CorpusError, match=r"LICENSE\.txt\.gz, README\.txt are not named by a language tag") as caught:
        open_parallel(folder)
    assert "BCP 47" in caught.value.hint and "README.md" in caught.value.hint
    with pytest.raises(CorpusError, match=r"README\.txt are not named"):
        open_parallel(folder, langs=["en"])  # every .txt file is a language, chosen or not


def test_files_named_by_any_tag_shape_or_a_private_name_are_languages(tmp_path):
    # '_' separates subtags as '-' does (gettext locales: pt_BR, en_tr is en-TR); private names stay as written;
    # an extended language subtag is the language (zh-yue is yue).
    names = ["pt_BR", "en_tr", "sr-Latn", "ca-valencia", "de-1901", "zh-yue", "ast", "x-008", "x-nya_chinyanja"]
    folder = make_folder(tmp_path / "par", {f"{name}.txt": "segment\n" for name in names})
    assert open_parallel(folder).langs == sorted(["pt-BR", "en-TR", "sr-Latn", "ca-valencia", "de-1901", "yue",
                                                  "ast", "x-008", "x-nya_chinyanja"])


def test_count_lines_counts_a_last_line_without_newline(tmp_path):
    path = tmp_path / "x.txt"
    for text, expected in [("", 0), ("a", 1), ("a\n", 1), ("a\nb", 2), ("\n\n", 2)]:
        path.write_text(text)
        assert count_lines(path) == expected


def test_lone_cr_line_ends_align_with_newlines(tmp_path):
    # An old Mac file (lone CR) was one line, and its folder refused as misaligned; a blank line between
    # CRs is a missing segment as it is between newlines.
    folder = make_folder(tmp_path / "par", {"en.txt": "one\rtwo\r\rfour\r", "de.txt": "eins\r\nzwei\r\ndrei\r\nvier",
                                            "fr.txt": "un\ndeux\ntrois\nquatre\n"})
    parallel = open_parallel(folder)
    assert parallel.total_lines == 4 and parallel.skipped_lines == (2,)
    assert list(parallel.iter_segments()) == [("eins", "one", "un"), ("zwei", "two", "deux"),
                                              ("vier", "four", "quatre")]


@pytest.mark.parametrize(("data", "expected"), [(b"\r", 1), (b"a\rb", 2), (b"a\r\nb\r", 2), (b"\r\r\n\n", 3),
                                                (b"a\xe2\x80\xa8b\xc2\x85c", 1)])
@pytest.mark.parametrize("block", [1, 2, 3, 1 << 20])
def test_count_lines_counts_the_line_ends_the_readers_split_at(tmp_path, monkeypatch, data, expected, block):
    from tokensmith.corpus import parallel

    monkeypatch.setattr(parallel, "READ_BLOCK", block)  # a CR-LF cut between two reads is one line end
    path = tmp_path / "x.txt"
    path.write_bytes(data)
    assert count_lines(path) == expected


def test_parallel_sample_keeps_the_same_indices_in_every_language(tmp_path):
    english = [f"sentence number {i}" for i in range(400)]
    german = [f"Satz Nummer {i} " + "x" * (i % 9) for i in range(400)]
    folder = make_folder(tmp_path / "par", {"en.txt": "\n".join(english), "de.txt": "\n".join(german)})
    parallel = open_parallel(folder)
    sample = sample_parallel(parallel, 2_000, seed=5)
    assert sample == sample_parallel(parallel, 2_000, seed=5)
    assert sample.texts["en"] == [english[i] for i in sample.line_ids]
    assert sample.texts["de"] == [german[i] for i in sample.line_ids]
    assert max(len("".join(t).encode()) for t in sample.texts.values()) <= 2_000
    assert list(sample.line_ids) == sorted(sample.line_ids) and len(sample.line_ids) > 50


@pytest.mark.shared
def test_real_parallel_folder_is_aligned(shared_data):
    parallel = open_parallel(shared_data / "parallel")
    assert len(parallel.langs) == 31 and "zh-CN" in parallel.langs
    assert parallel.total_lines == count_lines(shared_data / "parallel" / "en.txt")
    counts = {lang: sum(1 for _ in parallel.corpus(lang)) for lang in ("en", "ja", "ar")}
    assert set(counts.values()) == {parallel.kept_lines}
    first = next(parallel.iter_segments())
    assert len(first) == 31 and all(first)


@pytest.mark.shared
def test_real_files_with_a_dropped_line_are_refused(shared_data, tmp_path):
    folder = tmp_path / "par"
    folder.mkdir()
    shutil.copy(shared_data / "parallel" / "en.txt", folder / "en.txt")
    lines = (shared_data / "parallel" / "th.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "th.txt").write_text("".join(lines[:100] + lines[101:]), encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        open_parallel(folder)
    message = str(caught.value)
    assert f"th.txt: {len(lines) - 1} lines" in message and f"en.txt: {len(lines)} lines" in message


@pytest.mark.shared
def test_real_parallel_sample_is_aligned(shared_data):
    parallel = open_parallel(shared_data / "parallel", langs=["en", "de", "ja"])
    sample = sample_parallel(parallel, 30_000, seed=0)
    folder = shared_data / "parallel"
    files = {lang: (folder / f"{lang}.txt").read_text(encoding="utf-8").split("\n") for lang in parallel.langs}
    for lang, texts in sample.texts.items():
        assert texts == [files[lang][i] for i in sample.line_ids]


def test_a_language_whose_lines_are_all_blank_is_named(tmp_path):
    # The folder was refused as "no line is non-blank in every language", leaving the user to find which
    # of (here) three files was the empty export.
    files = {"en.txt": "one\ntwo\n", "sr-Latn.txt": "jedan\ndva\n", "zh_Hant.txt": "\n \n"}
    folder = make_folder(tmp_path / "par", files)
    with pytest.raises(CorpusError, match=r"no line is non-blank in every language: zh_Hant\.txt holds only blank"):
        open_parallel(folder)
    assert open_parallel(folder, langs=["en", "sr-Latn"]).kept_lines == 2


def test_an_empty_choice_of_languages_is_refused(tmp_path):
    folder = make_folder(tmp_path / "par", {"uz.txt": "bir\nikki\n", "ky.txt": "бир\nэки\n"})
    with pytest.raises(CorpusError, match="no language of the parallel corpus .* is chosen"):
        open_parallel(folder, langs=[])


def test_a_language_file_compressed_in_a_way_not_read_is_refused_not_left_out(tmp_path):
    # uz.txt.zip beside ky.txt and kk.txt: the folder was read as ky and kk only, uz left out unseen
    folder = make_folder(tmp_path / "par", {"ky.txt": "бир\nэки\n", "kk.txt": "бір\nекі\n"})
    (folder / "meta.jsonl.zip").write_bytes(b"PK\x03\x04")  # no language: no matter
    assert open_parallel(folder).langs == ["kk", "ky"]
    (folder / "uz.txt.zip").write_bytes(b"PK\x03\x04")
    with pytest.raises(CorpusError, match=r"uz\.txt\.zip: zip-compressed, which is not read"):
        open_parallel(folder)


def test_language_files_compressed_as_xz_or_bz2_are_read(tmp_path):
    # CC-100 and OPUS ship .xz and .bz2: uz.txt.xz was refused ("decompress it first")
    import bz2
    import lzma

    folder = make_folder(tmp_path / "par", {"ky.txt": "бир\nэки\n"})
    (folder / "uz.txt.xz").write_bytes(lzma.compress(b"bir\nikki\n"))
    (folder / "kk.txt.bz2").write_bytes(bz2.compress("бір\nекі\n".encode()))
    parallel = open_parallel(folder)
    assert parallel.langs == ["kk", "ky", "uz"]
    assert list(parallel.iter_segments()) == [("бір", "бир", "bir"), ("екі", "эки", "ikki")]


def test_a_file_longer_only_by_blank_lines_at_its_end_is_named_as_such(tmp_path):
    # An editor's extra empty line at the end of one file made the folder "misaligned: pt_BR.txt: 4 lines;
    # en.txt, sr-Latn.txt: 3 lines", with nothing to see in the editor
    files = {"en.txt": "one\ntwo\nthree\n", "sr-Latn.txt": "jedan\r\ndva\r\ntri\r\n", "pt_BR.txt": "um\ndois\ntrês\n\n"}
    folder = make_folder(tmp_path / "par", files)
    with pytest.raises(CorpusError, match=r"pt_BR\.txt: 4 lines; .*: 3 lines; pt_BR\.txt ends with 1 blank line"):
        open_parallel(folder)
    make_folder(folder, {"pt_BR.txt": "um\n\ndois\ntrês\n"})  # a blank line inside: no such note
    with pytest.raises(CorpusError, match=r"pt_BR\.txt: 4 lines; .*: 3 lines\n"):
        open_parallel(folder)


def test_a_flores_200_folder_is_read_by_canonical_tags(tmp_path):
    """FLORES-200's file names are the languages ISO 639-1 users name (eng_Latn.txt is en), so --lang and
    --ref-lang written either way meet them; a second file of one language, however its tag is spelt
    (en.txt beside eng_Latn.txt, as UDHR's ca.txt beside cat.txt), is refused with what to do."""
    from _flores_text import CANONICAL, SENTENCES, write_flores_folder

    folder = write_flores_folder(tmp_path / "flores")
    parallel = open_parallel(folder, langs=["en", "zho_Hans", "jpn"])
    assert parallel.langs == ["en", "ja", "zh-Hans"]
    assert [c.sources[0].name for c in parallel.corpora] == ["eng_Latn.txt", "jpn_Jpan.txt", "zho_Hans.txt"]
    assert list(parallel.corpus("eng_Latn")) == SENTENCES["eng_Latn"]
    assert sorted(open_parallel(folder).langs) == sorted(CANONICAL.values())
    (folder / "en.txt").write_text("\n".join(SENTENCES["eng_Latn"]) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="two files for language 'en'.*en.txt and eng_Latn.txt") as refused:
        open_parallel(folder)
    assert "en-x-2.txt" in refused.value.hint


def test_a_folder_of_flores_200_devtest_files_says_how_to_read_them(tmp_path):
    """FLORES-200 ships eng_Latn.devtest, zho_Hans.devtest...: the folder was refused as having no <lang>.txt
    files, with nothing to do about it. The refusal now shows how to link them as .txt, which then reads; one
    such file given as a corpus is of its language (it was 'und': its stem held the .devtest)."""
    import subprocess

    from _flores_text import CANONICAL, SENTENCES

    folder = tmp_path / "devtest"
    folder.mkdir()
    for name, lines in SENTENCES.items():
        (folder / f"{name}.devtest").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no <lang>.txt files") as refused:
        open_parallel(folder)
    assert open_corpus(str(folder / "zho_Hans.devtest")).lang == "zh-Hans"  # one of them alone, as a corpus
    command = refused.value.hint.split("e.g. ", 1)[1]
    assert command == 'for f in *.devtest; do ln -s "$f" "${f%.devtest}.txt"; done'
    subprocess.run(["bash", "-c", command], cwd=folder, check=True)
    assert sorted(open_parallel(folder).langs) == sorted(CANONICAL.values())
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no <lang>.txt files") as refused:
        open_parallel(tmp_path / "empty")
    assert refused.value.hint is None
