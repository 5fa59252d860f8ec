"""graphgen: graph generation and graph learning toolkit."""

__version__ = "0.1.0"
