"""The scheme's rules (scheme.md §3), one module per legal concept."""
