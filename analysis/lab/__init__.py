"""The Tokenizer lab: train tokenizers on parallel text and compare their premiums (issue 8)."""
