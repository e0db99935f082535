"""What can go wrong with a settlement file, and how it is told."""

from __future__ import annotations


class UnreadableFile(Exception):
    """The file as a whole cannot be read (empty, undecodable, wrong header, truncated, totals off).

    It is quarantined whole (line 0) and recorded in `landed_files` with status `rejected`.
    `problem` is a short slug naming the problem (`empty`, `undecodable`, `wrong_header`, ...).
    """

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


class LandingInvariantError(RuntimeError):
    """lines_read != lines_loaded + lines_quarantined: a line would be lost. Never swallowed."""
