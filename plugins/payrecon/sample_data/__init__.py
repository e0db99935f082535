"""Deterministic sample data for payrecon: a merchant's commerce database, gateway settlement files and
the ground truth (expected reconciliation state of every order and line, true person and purchase of every
order). `python -m payrecon.sample_data --help`, or `generate(...)` from Python.
"""

from payrecon.sample_data.generator import ScenarioSummary, generate

__all__ = ["ScenarioSummary", "generate"]
