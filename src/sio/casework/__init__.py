"""The allocation casework service (scheme.md §4): applications, IPLOS assessments, LEON
recommendations and decisions for many municipalities, with accounts, roles, municipality
scoping, pseudonyms and an audit log. Decisions feed the financing engine as vedtak rows."""
