"""The core: pure functions over frames and records (items, checks, consolidation, budgets, checklist, documents' content, ledger rows)."""
