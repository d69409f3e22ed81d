"""Training tokenizers: pre-tokenization, pre-token counting, one compiled merge loop, trainers, export.

Importing this package is light: numba loads only when a merge loop runs.
"""

from tokensmith.train.bpe import BpeTrainer as BpeTrainer
from tokensmith.train.bpe import TrainedBPE as TrainedBPE
from tokensmith.train.bpe import TrainingStats as TrainingStats
from tokensmith.train.counting import COUNTING_ENGINES as COUNTING_ENGINES
from tokensmith.train.counting import CountingEngine as CountingEngine
from tokensmith.train.counting import PretokenCounts as PretokenCounts
from tokensmith.train.counting import count_pretokens as count_pretokens
from tokensmith.train.pretokenize import PRETOKENIZER_PRESETS as PRETOKENIZER_PRESETS
from tokensmith.train.pretokenize import Pretokenizer as Pretokenizer
from tokensmith.train.pretokenize import PretokenizerPreset as PretokenizerPreset
