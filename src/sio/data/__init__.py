"""Input data: reading, validating and the built-in demo data set."""
