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


def test_public_names_resolve_to_their_modules_objects_and_stay_lazy():
    code = (
        "import importlib, sys, tokensmith\n"
        "assert 'tokensmith.measure' not in sys.modules and 'tokensmith.mixture' not in sys.modules\n"
        "for name, module in tokensmith._EXPORTS.items():\n"
        "    assert getattr(tokensmith, name) is getattr(importlib.import_module(module), name), name\n"
        "assert set(tokensmith._EXPORTS) <= set(dir(tokensmith))\n"
        "from tokensmith import load_tokenizer, run_measure\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    missing = subprocess.run([sys.executable, "-c", "import tokensmith; tokensmith.no_such_name"],
                             capture_output=True, text=True)
    assert "has no attribute 'no_such_name'" in missing.stderr
