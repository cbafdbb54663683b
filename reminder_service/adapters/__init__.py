"""The adapters: how people and other systems reach the service; none imports another (docs/ARCHITECTURE.md)."""
