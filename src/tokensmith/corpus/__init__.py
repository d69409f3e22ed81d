"""Corpora: streaming readers, parallel (line-aligned) corpora, sampling and word segmentation.

Importing this package is light: pyarrow, fugashi, pythainlp and rjieba load only when a parquet file
is read or a word segmenter for zh/ja/th is made.
"""

from tokensmith.corpus.language_tags import guess_language
from tokensmith.corpus.parallel import AlignedCorpus, ParallelCorpus, count_lines, open_parallel
from tokensmith.corpus.readers import BATCH_BYTES, Corpus, ReadStats, batch_documents, open_corpus
from tokensmith.corpus.sampling import ParallelSample, sample_documents, sample_parallel
from tokensmith.corpus.words import NotApplicable, UnicodeWordSegmenter, WordSegmenter, word_segmenter

__all__ = [
    "BATCH_BYTES",
    "AlignedCorpus",
    "Corpus",
    "NotApplicable",
    "ParallelCorpus",
    "ParallelSample",
    "ReadStats",
    "UnicodeWordSegmenter",
    "WordSegmenter",
    "batch_documents",
    "count_lines",
    "guess_language",
    "open_corpus",
    "open_parallel",
    "sample_documents",
    "sample_parallel",
    "word_segmenter",
]
