"""Move a pretrained causal LM onto a new tokenizer without training, and verify it in bits per byte.

Modules: ``models`` (offline loading of HF directories and GGUF files), ``overlap`` (shared tokens on
canonical bytes, special tokens by role), ``methods`` (the init-method registry), ``apply`` (transplant and
save), ``bpb`` (bits per byte), ``commands`` (what the CLI calls). Nothing heavy is imported here.
"""
