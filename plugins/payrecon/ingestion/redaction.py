"""Card numbers are never stored: anything that looks like a PAN (13–19 digits, optionally spaced or
dashed, passing the Luhn check) in free text or a quarantined raw line is masked to its last four digits.

Vectorised guard first (one regex over the column); Python only looks at the few values that match.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")
_ARROW_CANDIDATE = r"[0-9](?:[ -]?[0-9]){12,18}"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def redact_text(text: str | None) -> str | None:
    if not text or not any(c.isdigit() for c in text):
        return text

    def mask(m: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return f"[card number removed, ends {digits[-4:]}]"
        return m.group(0)

    return _CANDIDATE.sub(mask, text)


def redact_series(values: pd.Series) -> pd.Series:
    """The same column with card numbers masked (untouched, and not copied, when none can be there)."""
    if values.empty:
        return values
    arr = pa.array(values.array, from_pandas=True) if not hasattr(values.array, "__arrow_array__") else (
        values.array.__arrow_array__()
    )
    hits = pc.fill_null(pc.match_substring_regex(arr, _ARROW_CANDIDATE), False).to_numpy(zero_copy_only=False)
    if not hits.any():
        return values
    out = values.copy()
    idx = np.flatnonzero(hits)
    out.iloc[idx] = [redact_text(v) for v in values.iloc[idx]]
    return out
