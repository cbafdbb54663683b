"""The services: the domain with the database; no network of their own (docs/ARCHITECTURE.md)."""
