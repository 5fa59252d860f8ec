"""Benchmarks behind ``graphgen bench``: each compares graphgen with a baseline in the same run."""
