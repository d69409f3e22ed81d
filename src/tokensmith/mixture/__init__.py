"""Data-mixture inference: which share of a BPE tokenizer's training data was each category?

A BPE merge list records which pair was most frequent at each step of training. Replaying the merges on
sample text of candidate categories (languages, programming languages, domains) and asking which
mixture of the categories makes every recorded merge the most frequent pair is a linear program
(Hayase et al., "Data Mixture Inference: What do BPE Tokenizers Reveal about their Training Data?",
2024). Solved here with the open HiGHS solver and lazy constraint generation.

Modules, in pipeline order: ``samples`` (seeded category samples, streamed from the files),
``pretokenize`` (the tokenizer's own pre-tokenization), ``replay`` (merge replay with per-step pair
counts), ``history`` (all categories' counts in one sparse table), ``constraints`` (violated-constraint
scan), ``solver`` (the LP), ``infer`` (the pipeline), ``command`` (``run_mixture``: table + results.json).

Importing this package is light: numba and highspy load only when inference runs.
"""

from tokensmith.mixture.command import run_mixture as run_mixture
from tokensmith.mixture.infer import DEFAULT_MERGES as DEFAULT_MERGES
from tokensmith.mixture.infer import NORMALIZATIONS as NORMALIZATIONS
from tokensmith.mixture.infer import MixtureResult as MixtureResult
from tokensmith.mixture.infer import infer_mixture as infer_mixture
from tokensmith.mixture.infer import tokenizer_merges as tokenizer_merges
from tokensmith.mixture.pretokenize import TokenizerSplitter as TokenizerSplitter
from tokensmith.mixture.pretokenize import tokenizer_splitter as tokenizer_splitter
from tokensmith.mixture.samples import CategorySample as CategorySample
from tokensmith.mixture.samples import read_category_sample as read_category_sample
from tokensmith.mixture.samples import sample_categories as sample_categories
from tokensmith.mixture.samples import sample_category as sample_category
from tokensmith.mixture.solver import SolverSettings as SolverSettings
