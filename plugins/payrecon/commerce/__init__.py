"""The merchant's commerce database: what we read from it and how (see docs/CONTRACT.md)."""
