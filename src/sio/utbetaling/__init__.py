"""Payments: monthly a-konto runs, settlement of reported activity, etteroppgjør (§3.6)."""
