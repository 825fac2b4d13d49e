"""billing_lib: the helper package behind the month-end billing notebooks.

Pure calculation lives in ``money``, ``rules``, ``po``, ``consolidate`` and ``burndown``; files,
Excel, SQLite, papermill and widgets are thin shells around them (``inputs``, ``outputs``,
``excel``, ``register``, ``batch``, ``widgets``).
"""

__version__ = "0.1.0"
