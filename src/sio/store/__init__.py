"""The data store: immutable, versioned imports of input data (SQLite by default, PostgreSQL)."""
