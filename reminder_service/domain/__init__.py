"""The domain: pure rules, grammar and wording; no database, network or clock (docs/ARCHITECTURE.md)."""
