"""Training tokenizers: pre-tokenization, pre-token counting, one compiled merge loop, trainers, export.

Importing this package is light: numba loads only when a merge loop runs.

* Trainers (registry :data:`TRAINERS`): ``bpe`` (:class:`BpeTrainer`), ``char`` (:class:`CharTrainer`),
  ``extend`` (:class:`ExtendTrainer`), ``superword`` (:class:`SuperwordTrainer`), ``parity``
  (:class:`ParityTrainer`, training text per language + a parallel dev set); each a frozen dataclass
  with ``train(documents) -> result`` and ``result.save(directory)``.
* Resume: ``train(..., checkpoint=path)`` writes the merge state; ``resume(path)`` continues it (after an
  interruption or to a larger vocab_size), for every trainer but ``parity`` (superword: stage 2);
  ``train_from_files(..., checkpoint=, resume=True)`` wraps both.
* :func:`train_from_files` is the one call a command line wraps.
* Pre-token counting engines (registry :data:`COUNTING_ENGINES`, trainer option ``engine``): ``local``
  (processes, the default), ``serial`` and ``ray`` (:class:`RayEngine`: a Ray cluster at
  ``engine_address`` / ``RAY_ADDRESS``, else a local Ray); all give identical counts.
* Checkpoints of the merge state: ``merge_core.save_checkpoint`` / ``load_checkpoint`` (.npz, no pickle).
"""

from tokensmith.train.api import TRAINERS as TRAINERS
from tokensmith.train.api import make_trainer as make_trainer
from tokensmith.train.api import train_from_files as train_from_files
from tokensmith.train.bpe import BpeTrainer as BpeTrainer
from tokensmith.train.bpe import CharTrainer as CharTrainer
from tokensmith.train.bpe import TrainedBPE as TrainedBPE
from tokensmith.train.bpe import TrainingStats as TrainingStats
from tokensmith.train.counting import COUNTING_ENGINES as COUNTING_ENGINES
from tokensmith.train.counting import CountingEngine as CountingEngine
from tokensmith.train.counting import PretokenCounts as PretokenCounts
from tokensmith.train.counting import count_pretokens as count_pretokens
from tokensmith.train.counting import make_engine as make_engine
from tokensmith.train.extend import ExtendTrainer as ExtendTrainer
from tokensmith.train.parity import ParityTrainer as ParityTrainer
from tokensmith.train.parity import ParityTrainingStats as ParityTrainingStats
from tokensmith.train.pretokenize import PRETOKENIZER_PRESETS as PRETOKENIZER_PRESETS
from tokensmith.train.pretokenize import Pretokenizer as Pretokenizer
from tokensmith.train.pretokenize import PretokenizerPreset as PretokenizerPreset
from tokensmith.train.ray_counting import RayEngine as RayEngine
from tokensmith.train.superword import SuperwordTrainer as SuperwordTrainer
