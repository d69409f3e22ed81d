"""Byte-level scoring cost on SmolLM2-135M: milliseconds and model calls per byte at K=3 and K=5.

For each setting the same held-out English text (the last lines of ``mono/en.txt`` in ../shared/data, or
an embedded paragraph without it) is scored byte by byte through the chain rule, and the canonical
token-level figure is computed next to it: bits per byte, and the cost of one cached token-level forward
step per token (the decode loop a token-level model runs). Goal (issue 8): 12 ms/byte or less at K=5,
prune 0.05, on 2 cores.

    .venv/bin/python benchmarks/bytelm_speed.py [--bytes 600] [--threads N]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

FALLBACK_TEXT = (
    "Our allotment sits behind the railway, and every spring the same argument starts again: beans first, "
    "or potatoes? My neighbour keeps a notebook of frost dates going back twenty years, and he reads it "
    "aloud to anyone who stops at the gate. Last year the frost came late, the beans went in early, and he "
    "has not stopped talking about it since."
)


def held_out_text(size: int) -> str:
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "mono" / "en.txt"
    text = " ".join(path.read_text(encoding="utf-8").splitlines()[-40:]) if path.is_file() else FALLBACK_TEXT
    cut = text.encode("utf-8")[:size].decode("utf-8", errors="ignore")
    # End on a sentence: a text cut mid-word makes the canonical score pay for an odd last token that the
    # byte-level score (the probability of a prefix) does not, which would blur the comparison.
    end = cut.rfind(". ")
    return cut[: end + 1] if end > 0 else cut


def token_step_ms(model, tokens: list[int]) -> float:
    """Median wall time of one cached single-token forward step along the canonical tokens."""
    import torch
    from transformers import DynamicCache

    steps = []
    with torch.inference_mode():
        cache = DynamicCache()
        for position, token in enumerate(tokens):
            start = time.perf_counter()
            output = model(
                input_ids=torch.tensor([[token]]),
                past_key_values=cache,
                use_cache=True,
                position_ids=torch.tensor([[position]]),
            )
            steps.append(time.perf_counter() - start)
            cache = output.past_key_values
    steps.sort()
    return 1000 * steps[len(steps) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=600, help="bytes of held-out text to score")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()

    import torch

    from tokensmith.bytelm import BeamParams, ByteLM, CausalTokenLM, vocabulary_from_tokenizer
    from tokensmith.bytelm.scoring import byte_level_bits_per_byte
    from tokensmith.transplant.bpb import bits_per_byte, document_start_id
    from tokensmith.transplant.models import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    text = held_out_text(args.bytes)
    size = len(text.encode("utf-8"))
    loaded = load_model("smollm2-135m")
    tokenizer = loaded.tokenizer
    tokens = [document_start_id(tokenizer), *tokenizer.encode(text)]
    canonical = bits_per_byte(loaded, tokenizer, [text]).bits_per_byte
    step_ms = token_step_ms(loaded.model, tokens)
    tokens_per_byte = (len(tokens) - 1) / size
    vocabulary = vocabulary_from_tokenizer(tokenizer)
    print(
        f"SmolLM2-135M, {size} bytes of held-out English, {len(tokens) - 1} tokens, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"{'scoring':<28}{'bpb':>8}{'vs canonical':>14}{'calls/byte':>12}{'ms/byte':>10}{'heals':>7}")
    token_ms_per_byte = step_ms * tokens_per_byte
    print(f"{'canonical tokens':<28}{canonical:>8.4f}{'':>14}{tokens_per_byte:>12.3f}{token_ms_per_byte:>10.1f}{'':>7}")
    for beam_size, prune in ((3, 0.05), (5, 0.05)):
        byte_lm = ByteLM(CausalTokenLM(loaded), vocabulary, BeamParams(beam_size, prune))
        score = byte_level_bits_per_byte(byte_lm, [text])
        record = score.as_dict()
        relative = f"{100 * (score.bits_per_byte / canonical - 1):+.2f}%"
        label = f"byte-level K={beam_size} prune {prune}"
        print(
            f"{label:<28}{score.bits_per_byte:>8.4f}{relative:>14}{record['model_calls_per_byte']:>12.3f}"
            f"{record['ms_per_byte']:>10.1f}{score.heals:>7}"
        )
    print(f"one cached token-level step: {step_ms:.1f} ms (median); goal at K=5: <= 12 ms/byte")
    if not math.isfinite(canonical):
        raise SystemExit("canonical score is not finite")


if __name__ == "__main__":
    main()
