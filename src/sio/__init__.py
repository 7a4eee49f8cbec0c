"""SIO — statlig finansiering av omsorgstjenester: the financing rules of the scheme as code."""

__version__ = "0.1.0"
