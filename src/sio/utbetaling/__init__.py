"""Payments: monthly a-konto runs, settlement of reported activity, etteroppgjør (scheme.md §3.6)."""
