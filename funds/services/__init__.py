"""Every write in funds. Keyword-only, atomic; docstrings list side effects."""
