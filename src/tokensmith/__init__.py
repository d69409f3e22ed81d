"""tokensmith: measure, train and transplant the tokenizers of language models.

The public API is re-exported here; nothing heavy (torch, transformers, ray) is imported.
"""

__version__ = "0.1.0"
