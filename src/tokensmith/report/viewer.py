"""The token viewer's data: sample sentences with every tokenizer's tokens, embedded safely in the page.

The page carries the data as JSON inside ``<script type="application/json">``; the report's script
draws the tokens when a language is picked. Inside a script element the HTML parser ends the element
at the first ``</script``, whatever the JSON means, so every ``<``, ``>`` and ``&`` is written as a
JSON ``\\u`` escape: the text parses back to the same strings and the markup can never close early.
"""

from __future__ import annotations

import json
from typing import Any

from tokensmith.report.data import MeasureData

#: JSON escapes that keep embedded text inert in HTML (U+2028/2029 also end lines in older JS parsers).
_HTML_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def embed_json(data: Any) -> str:
    """JSON text that is safe inside a ``<script type="application/json">`` element.

    >>> embed_json({"s": "</script><b>"})
    '{"s":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_HTML_SAFE)


def viewer_payload(measure: MeasureData | None) -> dict[str, Any]:
    """What the viewer script reads: tokenizer order and one entry per sampled corpus.

    Shape: ``{"tokenizers": [name], "samples": [{"corpus", "lang", "sentences": [str],
    "tokens": {name: [[[id, hex], ...] per sentence]}}]}``.
    """
    if measure is None:
        return {"tokenizers": [], "samples": []}
    order = measure.tokenizer_names()
    samples = []
    for sample in measure.samples:
        tokens = {name: sample["tokens"][name] for name in order if name in sample["tokens"]}
        if sample["sentences"] and tokens:
            samples.append({"corpus": sample["corpus"], "lang": sample.get("lang"),
                            "sentences": sample["sentences"], "tokens": tokens})
    return {"tokenizers": order, "samples": samples}
