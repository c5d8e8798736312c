"""An account's ingest rules (parse, redact, exclude): checked (check.py), compiled for the
stages (compiled.py), tried on samples (samples.py), and kept and counted by the service
behind the API (book.py). docs/rules.md describes them for users."""
