"""The ``graphgen`` command line. Nothing in the package imports this module."""

from graphgen.cli.app import app, main

__all__ = ["app", "main"]
