"""`import tokensmith` must stay light: heavy frameworks load only inside the functions that need them."""

import subprocess
import sys

HEAVY = ("torch", "transformers", "ray", "numba", "fugashi", "pythainlp", "pyarrow", "mistral_common")


def test_import_does_not_load_heavy_frameworks():
    code = (
        "import sys, tokensmith, tokensmith.cli, tokensmith.tokenizers, tokensmith.metrics, tokensmith.corpus\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"import tokensmith loaded heavy modules: {loaded}"
