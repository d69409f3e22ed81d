"""A tokenized language model seen one byte at a time: exact next-byte probabilities, byte-level bits per
byte, completion without tokenization bias, and ensembles of models with different tokenizers."""

from tokensmith.bytelm.beam import Beam, BeamParams, ByteLM
from tokensmith.bytelm.lm import CausalTokenLM, TokenLM
from tokensmith.bytelm.vocab import END_OF_TEXT, OUTCOMES, ByteVocabulary, vocabulary_from_tokenizer

__all__ = [
    "END_OF_TEXT",
    "OUTCOMES",
    "Beam",
    "BeamParams",
    "ByteLM",
    "ByteVocabulary",
    "CausalTokenLM",
    "TokenLM",
    "vocabulary_from_tokenizer",
]
