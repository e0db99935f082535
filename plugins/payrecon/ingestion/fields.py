"""Vectorised field conversions shared by every format: amounts, currencies, timestamps, row errors.

Each converter takes a column of strings and returns typed values plus, for the rows it could not
convert, a problem text; `RowErrors` keeps the first problem of each row (with the field it was in).
Python runs per *bad* row only (to word the message); the good rows never leave numpy/pyarrow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from payrecon.money import exponent, known_currencies

DEFAULT_MAX_ABS_AMOUNT = 100_000_000
"""Absurd-amount bound in major units (overridable per deployment in gateways.yaml `limits`)."""

_MAX_INT_DIGITS = 15  # int64 holds 18 digits; 15 integer digits + up to 3 decimals stays exact


def show(value: object, limit: int = 60) -> str:
    """A value as quoted in a quarantine reason (cut when long)."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)


class RowErrors:
    """The first problem found on each row of a batch, and the field it was found in."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reason = np.full(n, None, dtype=object)
        self.field = np.full(n, None, dtype=object)
        self.bad = np.zeros(n, dtype=bool)

    def add(self, mask: np.ndarray, field: str | None, message: Callable[[int], str]) -> None:
        """Record `message(i)` for each row i under `mask` that has no problem yet."""
        new = np.asarray(mask, dtype=bool) & ~self.bad
        for i in np.flatnonzero(new):
            self.reason[i] = message(int(i))
            self.field[i] = field
        self.bad |= new

    def add_same(self, mask: np.ndarray, field: str | None, message: str) -> None:
        new = np.asarray(mask, dtype=bool) & ~self.bad
        self.reason[new] = message
        self.field[new] = field
        self.bad |= new

    @property
    def ok(self) -> np.ndarray:
        return ~self.bad


def strings(series: pd.Series | None, n: int) -> pa.ChunkedArray:
    """A trimmed pyarrow string column ("" for absent)."""
    if series is None:
        return pa.chunked_array([pa.array([""] * n, pa.large_string())]) if n else pa.chunked_array([], pa.large_string())
    values = series.array
    if hasattr(values, "__arrow_array__"):
        arr = values.__arrow_array__()
    else:
        arr = pa.array(np.asarray(values, dtype=object), from_pandas=True)
    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr])
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    arr = pc.fill_null(arr, "")
    return pc.utf8_trim_whitespace(arr)


def map_values(keys: np.ndarray, mapping: dict[str, str], default: str) -> np.ndarray:
    """Vectorised dict lookup over an object array (Python runs once per distinct value, not per row)."""
    uniques, codes = np.unique(keys.astype(str), return_inverse=True)
    targets = np.array([mapping.get(u, default) for u in uniques], dtype=object)
    return targets[codes] if len(keys) else np.empty(0, dtype=object)


def blank(arr: pa.ChunkedArray) -> np.ndarray:
    return pc.equal(pc.utf8_length(arr), 0).to_numpy(zero_copy_only=False)


def optional_text(arr: pa.ChunkedArray) -> pd.Series:
    """Text with blanks as missing (None)."""
    out = pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.large_string()), arr)
    return pd.Series(out.to_pandas(), dtype="str")


# ------------------------------------------------------------------------------------------ currencies


@cache
def _currency_exponents() -> dict[str, int]:
    return {code: exponent(code) for code in known_currencies()}


@dataclass
class Currencies:
    codes: pa.ChunkedArray  # upper-case
    exponents: np.ndarray  # int64, -1 where unknown


def currencies(
    raw: pa.ChunkedArray, errors: RowErrors, field: str, *, required: bool = True, shown: Iterable[str] = ()
) -> Currencies:
    """Upper-case ISO codes and their exponents; unknown or blank codes are row errors."""
    codes = pc.utf8_upper(raw)
    table = _currency_exponents()
    # look up the few distinct codes of the column, then spread their exponents over the rows
    distinct = pc.unique(codes)
    distinct_exps = pa.array([table.get(c, -1) if c is not None else -1 for c in distinct.to_pylist()], pa.int64())
    if len(distinct) == 1:
        exps = np.full(len(codes), distinct_exps[0].as_py(), dtype=np.int64)
    else:
        exps = pc.take(distinct_exps, pc.index_in(codes, value_set=distinct)).to_numpy(zero_copy_only=False)
    known = exps >= 0
    is_blank = blank(raw)
    if required:
        errors.add_same(is_blank, field, f"field {field!r}: missing currency")
    shown_raw = None

    def msg(i: int) -> str:
        nonlocal shown_raw
        if shown_raw is None:
            shown_raw = raw.to_pylist()
        return f"field {field!r}: unknown currency {show(shown_raw[i])} (not an ISO 4217 code)"

    errors.add(~known & ~is_blank, field, msg)
    return Currencies(codes, exps)


# --------------------------------------------------------------------------------------------- amounts

_SCALES = pa.array([Decimal(10**e) for e in range(5)], pa.decimal128(5, 0))
_FAST = r"^[+-]?[0-9]{1,15}(\.[0-9]{0,6})?$"
_FAST_COMMA = r"^[+-]?[0-9]{1,15}(,[0-9]{0,6})?$"


def amounts(
    raw: pa.ChunkedArray,
    exps: np.ndarray,
    errors: RowErrors,
    field: str,
    *,
    required: bool = True,
    decimal_comma: bool = False,
    max_abs_major: int = DEFAULT_MAX_ABS_AMOUNT,
    currency_field: Currencies | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decimal strings in major units → int64 minor units (exact). Returns (values, present mask).

    Accepted: `-12.34`, `+12.34`, `12`, `(12.34)` (negative), `1,234.56` / `1 234.56` (thousands
    separators), `1.234,56` and, in a decimal-comma file, `12,34`. Blank is a problem when required.
    The common shape goes through pyarrow's exact decimal cast; only unusual values see Python.
    """
    n = len(raw)
    is_blank = blank(raw)
    fast = _FAST_COMMA if decimal_comma else _FAST
    plain = pc.match_substring_regex(raw, fast).to_numpy(zero_copy_only=False)
    s = pc.if_else(pa.array(plain), pc.replace_substring(raw, ",", "."), raw) if decimal_comma else raw
    odd = ~plain & ~is_blank
    if odd.any():
        s = _normalise_odd(s, odd, decimal_comma)
    if odd.any() or decimal_comma:
        plain = pc.match_substring_regex(s, _FAST).to_numpy(zero_copy_only=False)
    raw_list = None

    def raw_at(i: int) -> str:
        nonlocal raw_list
        if raw_list is None:
            raw_list = raw.to_pylist()
        return raw_list[i]

    if required:
        errors.add_same(is_blank, field, f"field {field!r}: missing amount")
    rest = ~plain & ~is_blank
    too_long = np.zeros(n, dtype=bool)
    if rest.any():
        # well-formed but beyond the fast shape: too many integer digits (absurd) or decimals (too precise)
        shaped = pc.match_substring_regex(s, r"^[+-]?[0-9]+(\.[0-9]+)?$").to_numpy(zero_copy_only=False) & rest
        too_long = shaped & (pc.match_substring_regex(s, r"^[+-]?0*[0-9]{16,}").to_numpy(zero_copy_only=False))
        errors.add(
            too_long,
            field,
            lambda i: f"field {field!r}: absurd amount {show(raw_at(i))} (beyond the bound of {max_abs_major:,})",
        )
        errors.add(
            shaped & ~too_long,
            field,
            lambda i: f"field {field!r}: {show(raw_at(i))} has more decimals than{_cur(currency_field, i)} allows"
            f" ({max(int(exps[i]), 0)})",
        )
        errors.add(rest & ~shaped, field, lambda i: f"field {field!r}: {show(raw_at(i))} is not a decimal amount")
    values = np.zeros(n, dtype=np.int64)
    if not plain.any():
        return values, plain
    exps_ok = np.where(exps < 0, 2, exps)
    source = s if plain.all() else pc.if_else(pa.array(plain), s, "0")
    values = _single_exponent_minor(source, exps_ok)
    if values is not None:  # one currency exponent and no value finer than it: exact by construction
        too_precise = np.zeros(n, dtype=bool)
    else:
        dec = pc.cast(source, pa.decimal128(21, 6))
        scale = _SCALES.take(pa.array(np.minimum(exps_ok, 4)))
        minor_dec = pc.multiply(dec, scale)
        values = pc.cast(minor_dec, pa.int64(), safe=False).to_numpy(zero_copy_only=False)
        exact = pc.equal(pc.cast(pa.array(values), minor_dec.type), minor_dec).to_numpy(zero_copy_only=False)
        too_precise = plain & ~exact & (exps >= 0)
    errors.add(
        too_precise,
        field,
        lambda i: f"field {field!r}: {show(raw_at(i))} has more decimals than{_cur(currency_field, i)} allows"
        f" ({exps_ok[i]})",
    )
    bound = np.int64(max_abs_major) * (10 ** exps_ok.astype(np.int64))
    absurd = plain & (np.abs(values) > bound)
    errors.add(
        absurd,
        field,
        lambda i: f"field {field!r}: absurd amount {show(raw_at(i))} (beyond the bound of {max_abs_major:,})",
    )
    ok = plain & ~too_precise & ~absurd
    values = np.where(ok, values, 0)
    return values, plain


def _single_exponent_minor(source: pa.ChunkedArray, exps: np.ndarray) -> np.ndarray | None:
    """Minor units when every row has the same exponent e: one cast to decimal(.., e) (which refuses any
    value with more than e significant decimals), times 10^e, to int64. None when that does not apply."""
    if not len(exps) or not (exps == exps[0]).all():
        return None
    e = int(exps[0])
    try:
        dec = pc.cast(source, pa.decimal128(15 + e, e))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # some value is finer than the currency allows: the general path names it
    scaled = pc.multiply(dec, pa.scalar(Decimal(10**e), pa.decimal128(5, 0)))
    return pc.cast(scaled, pa.int64()).to_numpy(zero_copy_only=False)


def _cur(currency_field: Currencies | None, i: int) -> str:
    return f" {currency_field.codes[i].as_py()}" if currency_field is not None else ""


def _normalise_odd(s: pa.ChunkedArray, odd: np.ndarray, decimal_comma: bool) -> pa.ChunkedArray:
    """Parentheses, thousands separators and decimal commas, on the rows that need it."""
    vals = s.to_pylist()
    import re

    thousands_dot = re.compile(r"^[+-]?\d{1,3}(?:[. '\u00a0\u202f]\d{3})+(?:,\d+)?$")
    thousands_comma = re.compile(r"^[+-]?\d{1,3}(?:[, '\u00a0\u202f]\d{3})+(?:\.\d+)?$")
    for i in np.flatnonzero(odd):
        v = vals[i]
        neg = False
        if len(v) > 2 and v.startswith("(") and v.endswith(")"):
            v, neg = v[1:-1].strip(), True
        if decimal_comma:
            if thousands_dot.match(v):
                v = re.sub(r"[. '\u00a0\u202f]", "", v)
            v = v.replace(",", ".")
        elif thousands_comma.match(v):
            v = re.sub(r"[, '\u00a0\u202f]", "", v)
        elif thousands_dot.match(v) and "," in v:
            v = re.sub(r"[. '\u00a0\u202f]", "", v).replace(",", ".")
        if neg:
            v = v[1:] if v.startswith("-") else "-" + v.lstrip("+")
            if v.startswith("--"):
                v = "x"  # double negative: not an amount
        vals[i] = v
    return pa.chunked_array([pa.array(vals, pa.large_string())])


# ------------------------------------------------------------------------------------------ timestamps

_ZONE = r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*(?:[zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)$"
_EXTRA_FORMATS = (
    "%Y/%m/%d %H:%M:%S %z",
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M:%S %z",
    "%b %d, %Y %H:%M:%S",
)


def timestamps(
    raw: pa.ChunkedArray,
    errors: RowErrors,
    field: str,
    *,
    naive_tz: str | None,
    required: bool = True,
    extra_formats: tuple[str, ...] = (),
    zone_column: pa.ChunkedArray | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """Strings → UTC-aware timestamps. Returns (series datetime64[us, UTC], present mask).

    ISO 8601 in any form, `Z`/offset/`UTC` suffixes; plus `extra_formats` and a few unambiguous ones
    (`2026/11/01 10:00:00 -0700`, `01.11.2026 10:00`). A time without a zone is a problem unless the
    format documents its zone (`naive_tz`), or a per-row zone column is given (`zone_column`).
    Slash dates like `11/01/2026` are ambiguous and only read when a format lists them.
    """
    is_blank = blank(raw)
    worded = pc.match_substring_regex(raw, r"\s*(?:UTC|GMT)$")
    if pc.any(worded).as_py():
        raw_z = pc.replace_substring_regex(raw, r"\s*(?:UTC|GMT)$", "Z")
    else:
        raw_z = raw
    has_zone = pc.match_substring_regex(raw_z, _ZONE).to_numpy(zero_copy_only=False)
    out = _arrow_timestamps(raw_z, is_blank, has_zone)
    if out is None:  # mixed or unusual shapes: pandas' ISO 8601 parser, then the explicit formats below
        text = pd.Series(raw_z.to_pandas(), dtype="str")
        out = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        out = out.astype("datetime64[us, UTC]")
    else:
        text = None
    parsed = out.notna().to_numpy().copy()
    date_only = parsed & (pc.utf8_length(raw_z).to_numpy(zero_copy_only=False) <= 10)
    naive = parsed & ~has_zone
    todo = ~parsed & ~is_blank
    if todo.any():
        if text is None:
            text = pd.Series(raw_z.to_pandas(), dtype="str")
        sub = text[todo]
        result = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[us, UTC]")
        sub_zone = np.zeros(len(sub), dtype=bool)
        for fmt in (*extra_formats, *_EXTRA_FORMATS):
            left = result.isna().to_numpy()
            if not left.any():
                break
            zoned = "%z" in fmt or "%Z" in fmt
            try:
                got = pd.to_datetime(sub[left], format=fmt, errors="coerce", utc=zoned)
            except (ValueError, TypeError):
                continue
            if not zoned:
                got = got.dt.tz_localize("UTC")
            hit = got.notna().to_numpy()
            if hit.any():
                pos = np.flatnonzero(left)[hit]
                result.iloc[pos] = got[hit].astype("datetime64[us, UTC]").to_numpy()
                sub_zone[pos] = zoned
        out[todo] = result
        got_idx = np.flatnonzero(todo)
        ok = result.notna().to_numpy()
        parsed[got_idx[ok]] = True
        naive[got_idx[ok & ~sub_zone]] = True
    # naive: re-interpret in the documented zone (the values are wall-clock times parsed as UTC)
    if naive.any():
        if zone_column is not None:
            zones = pd.Series(zone_column.to_pandas(), dtype="str").to_numpy()
            for zone in pd.unique(zones[naive]):
                rows = naive & (zones == zone)
                localized = _localize(out[rows], str(zone) if zone else naive_tz)
                if localized is not None:
                    out[rows] = localized
                    naive[rows] = False
        elif naive_tz in ("UTC", "Etc/UTC"):
            naive[:] = False  # parsed as UTC wall-clock already
        elif naive_tz is not None:
            localized = _localize(out[naive], naive_tz)
            if localized is not None:
                out[naive] = localized
                naive[:] = False
    raw_list = None

    def raw_at(i: int) -> str:
        nonlocal raw_list
        if raw_list is None:
            raw_list = raw.to_pylist()
        return raw_list[i]

    if required:
        errors.add_same(is_blank, field, f"field {field!r}: missing date")
    errors.add(
        ~parsed & ~is_blank,
        field,
        lambda i: f"field {field!r}: {show(raw_at(i))} is not a date this format reads",
    )
    errors.add(
        naive & parsed,
        field,
        lambda i: f"field {field!r}: {show(raw_at(i))} has no time zone"
        + (" (date only)" if date_only[i] else ""),
    )
    lost = parsed & ~naive & out.isna().to_numpy()
    errors.add(
        lost,
        field,
        lambda i: f"field {field!r}: {show(raw_at(i))} is not a valid local time in its zone (DST gap or overlap)",
    )
    present = parsed & ~naive & ~lost
    return out.where(present), present


def _arrow_timestamps(raw: pa.ChunkedArray, is_blank: np.ndarray, has_zone: np.ndarray) -> pd.Series | None:
    """The common case in one pyarrow cast: every filled value ISO 8601, all with a zone or all without.

    Naive values come back as UTC wall-clock (re-read in the documented zone by the caller). Any value
    the cast refuses sends the whole column to the slower, more forgiving path (None).
    """
    filled = ~is_blank
    if not filled.any():
        return None
    zoned = has_zone[filled]
    if zoned.all():
        target = pa.timestamp("us", tz="UTC")
    elif not zoned.any():
        target = pa.timestamp("us")
    else:
        return None
    values = pc.if_else(pa.array(is_blank), pa.scalar(None, raw.type), raw) if is_blank.any() else raw
    try:
        cast = pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out = pd.Series(cast.to_pandas())
    if target.tz is None:
        out = out.dt.tz_localize("UTC")
    return out.astype("datetime64[us, UTC]")


def _localize(values: pd.Series, zone: str | None) -> pd.Series | None:
    if not zone:
        return None
    zone = {"CET": "Europe/Paris", "CEST": "Europe/Paris", "PST": "America/Los_Angeles",
            "PDT": "America/Los_Angeles"}.get(zone, zone)
    try:
        wall = values.dt.tz_localize(None)
        return wall.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC").astype(
            "datetime64[us, UTC]"
        )
    except Exception:  # unknown zone name: leave the rows naive (a row error names them)
        return None
