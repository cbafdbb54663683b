"""Notifiers: one small class per channel behind one interface (``base.Notifier``)."""
