"""Prompts cut at random byte positions: how often does each decoder reproduce the next 16 bytes exactly?

Text comes from ../shared/data: code (``domain/code_python.txt``) and prose (``mono/en.txt``). For each
sample a random cut (seeded, on a UTF-8 character boundary; most fall inside a token) splits a window of
text into a prompt (up to ``--context`` bytes before the cut) and the reference continuation (the next
``--target`` bytes). SmolLM2-135M then continues the prompt greedily with

* ``greedy``: the prompt's canonical tokens, then greedy tokens (what a token-level API does);
* ``heal``: token healing (back up one token, force the next to start with its bytes);
* ``bytes``: greedy next-byte decoding from the byte-level view (K=5, prune 0.05).

and the table gives the share of exact matches of the full continuation, the mean length of the matching
prefix, and how many cuts fell inside a canonical token of the full text.

    .venv/bin/python benchmarks/midtoken.py [--samples 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = {"code": DATA / "domain" / "code_python.txt", "prose": DATA / "mono" / "en.txt"}


def samples(path: Path, count: int, context: int, target: int, rng: random.Random) -> list[tuple[bytes, bytes]]:
    """``count`` (prompt, continuation) pairs cut at random character boundaries of the file's text."""
    data = path.read_bytes()[:2_000_000]
    taken: list[tuple[bytes, bytes]] = []
    while len(taken) < count:
        cut = rng.randrange(context, len(data) - target)
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # move to a character boundary
            cut += 1
        prompt, continuation = data[cut - context : cut], data[cut : cut + target]
        start = prompt.find(b"\n") + 1 if b"\n" in prompt[: context // 2] else 0  # start on a line when possible
        prompt = prompt[start:]
        try:
            prompt.decode("utf-8")
            continuation.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(continuation) == target and continuation.strip():
            taken.append((prompt, continuation))
    return taken


def inside_token(tokenizer, prompt: bytes, continuation: bytes) -> bool:
    """Whether the cut falls inside a canonical token of prompt + continuation."""
    boundary, position = len(prompt), 0
    for token in tokenizer.encode((prompt + continuation).decode("utf-8")):
        position += len(tokenizer.token_bytes(token))
        if position == boundary:
            return False
        if position > boundary:
            return True
    return False


def common_prefix(a: bytes, b: bytes) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30, help="prompts per source")
    parser.add_argument("--context", type=int, default=200, help="bytes of text before the cut")
    parser.add_argument("--target", type=int, default=16, help="bytes to reproduce")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    missing = [str(p) for p in SOURCES.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"needs ../shared/data: missing {', '.join(missing)}")

    from tokensmith.bytelm import BeamParams, ByteLM, CausalTokenLM, vocabulary_from_tokenizer
    from tokensmith.bytelm.decoding import complete_bytes, greedy_tokens, heal_tokens
    from tokensmith.transplant.models import load_model

    loaded = load_model("smollm2-135m")
    vocabulary = vocabulary_from_tokenizer(loaded.tokenizer)
    byte_lm = ByteLM(CausalTokenLM(loaded), vocabulary, BeamParams(5, 0.05))
    decoders = {
        "greedy": lambda prompt: greedy_tokens(byte_lm.lm, vocabulary, prompt, args.target).continuation,
        "heal": lambda prompt: heal_tokens(byte_lm.lm, vocabulary, prompt, args.target).continuation,
        "bytes": lambda prompt: complete_bytes(byte_lm, prompt, args.target).continuation,
    }
    rng = random.Random(args.seed)
    print(f"SmolLM2-135M, {args.samples} prompts per source, {args.context}-byte context, {args.target} bytes to match")
    print(f"{'source':<8}{'decoder':<9}{'exact':>8}{'mean prefix':>13}{'s/prompt':>10}{'cuts inside a token':>21}")
    for source, path in SOURCES.items():
        pairs = samples(path, args.samples, args.context, args.target, rng)
        inside = sum(inside_token(loaded.tokenizer, p, c) for p, c in pairs)
        for name, decode in decoders.items():
            start = time.perf_counter()
            outputs = [decode(prompt) for prompt, _ in pairs]
            seconds = (time.perf_counter() - start) / len(pairs)
            exact = sum(out == target for out, (_, target) in zip(outputs, pairs, strict=True)) / len(pairs)
            prefix = sum(common_prefix(out, target) for out, (_, target) in zip(outputs, pairs, strict=True))
            print(
                f"{source:<8}{name:<9}{100 * exact:>7.1f}%{prefix / len(pairs):>13.2f}{seconds:>10.2f}"
                f"{f'{inside}/{len(pairs)}':>21}"
            )


if __name__ == "__main__":
    main()
