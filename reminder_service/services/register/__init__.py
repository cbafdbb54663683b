"""The incoming register (sổ văn bản đến): reading exports, matching rows, importing, the review list.

``read`` turns a CSV/XLSX export into rows (``dates`` reads its dates); ``text``, ``match`` and
``classify`` are pure (no database, no clock) and decide which unit sent a row and which report it is;
``apply`` writes submissions and review items; ``review`` resolves or dismisses what could not be
matched for sure.
"""
