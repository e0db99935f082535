"""Scenario parameters, the random streams and the vectorised formatting helpers.

Everything inside the generator is integers: times are epoch seconds (UTC), money is integer minor units
with a per-row ISO exponent. Strings are made only when writing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

DAY = 86_400
HOUR = 3_600
MINUTE = 60


@dataclass(frozen=True)
class Config:
    start: date
    days: int
    orders_per_day: int
    seed: int
    grace_days: int = 3

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"days must be >= 1, got {self.days}")
        if self.orders_per_day < 1:
            raise ValueError(f"orders_per_day must be >= 1, got {self.orders_per_day}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.grace_days < 0:
            raise ValueError(f"grace_days must be >= 0, got {self.grace_days}")

    @property
    def t0(self) -> int:
        """Epoch seconds of the first generated day, 00:00 UTC."""
        return int(datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC).timestamp())

    @property
    def as_of(self) -> int:
        """End of the last generated day: the moment the ground truth is evaluated at."""
        return self.t0 + self.days * DAY

    @property
    def n_orders(self) -> int:
        return self.days * self.orders_per_day

    def rng(self, stream: str) -> np.random.Generator:
        """An independent, reproducible stream per concern, so one module's draws never shift another's."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])

    def day_label(self, day_index: int) -> str:
        return datetime.fromtimestamp(self.t0 + day_index * DAY, tz=UTC).strftime("%Y-%m-%d")


def scaled(base: int, rate: float, minimum: int) -> int:
    """How many special cases to make: a share of `base`, but never fewer than `minimum`."""
    return max(minimum, int(round(base * rate)))


_LOWER_ALNUM = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_MIXED_ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def tokens(rng: np.random.Generator, n: int, length: int, prefix: str = "", mixed: bool = False) -> np.ndarray:
    """`n` random ids like `ch_3Pq9…` (vectorised: one byte matrix viewed as fixed-width strings)."""
    alphabet = _MIXED_ALNUM if mixed else _LOWER_ALNUM
    codes = np.ascontiguousarray(alphabet[rng.integers(0, len(alphabet), size=(n, length))])
    raw = codes.view(f"S{length}").ravel().astype(f"U{length}")
    return np.strings.add(prefix, raw) if prefix else raw


# How formatted columns come out: "str" (numpy unicode), "bytes" (ASCII `S` array: 4x smaller, the fast
# path into Arrow, see `text_array`) or "object" (Python str objects: the fast path into a DB-API driver).
STR, BYTES, OBJECT = "str", "bytes", "object"
_FOUR_DIGITS = np.array([f"{v:04d}" for v in range(10_000)], dtype=object)


def seq_ids(prefix: str, first: int, n: int, width: int, form: str = STR) -> np.ndarray:
    """`PREFIX-0000001` … sequential, zero-padded ids."""
    return ids(prefix, np.arange(first, first + n, dtype=np.int64), width, form)


def ids(prefix: str, numbers: np.ndarray, width: int, form: str = STR) -> np.ndarray:
    """`PREFIX-0000042` for each number."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if len(numbers) == 0:
        return _as(np.array([], dtype=object), form)
    if form == OBJECT and width >= 4:
        # two table lookups and one concatenation per value: `PREFIX-0042` + `0017`
        high, low = np.divmod(numbers, 10_000)
        heads = np.array([f"{prefix}{h:0{width - 4}d}" if width > 4 else f"{prefix}{h or ''}"
                          for h in range(int(high.max()) + 1)], dtype=object)
        return heads[high] + _FOUR_DIGITS[low]
    if form == OBJECT:
        return np.array([f"{prefix}{v:0{width}d}" for v in numbers.tolist()], dtype=object)
    if form == BYTES:
        return np.strings.add(prefix.encode(), np.strings.zfill(numbers.astype("S"), width))
    return np.strings.add(prefix, np.strings.zfill(numbers.astype(str), width))


def ids_or_none(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Like `ids`, with None where the number is negative (a nullable reference)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    out = ids(prefix, np.maximum(numbers, 0), width, OBJECT)
    out[numbers < 0] = None
    return out


def _as(table: np.ndarray, form: str) -> np.ndarray:
    """A small table of str objects in the requested form (gathered afterwards)."""
    return table.astype({STR: str, BYTES: "S", OBJECT: object}[form])


def money(minor: np.ndarray, exp: np.ndarray, form: str = STR) -> np.ndarray:
    """Integer minor units -> exact decimal strings with exactly the currency's digits (`-12.30`, `1200`).

    Amounts repeat (catalogue prices), so each distinct (amount, exponent) is formatted once and gathered.
    """
    minor = np.asarray(minor, dtype=np.int64)
    exp = np.asarray(exp, dtype=np.int64)
    if len(minor) == 0:
        return _as(np.array([], dtype=object), form)
    keys, inverse = np.unique(minor * 8 + exp, return_inverse=True)
    text = np.empty(len(keys), dtype=object)
    for i, key in enumerate(keys.tolist()):
        m, e = key // 8, key % 8
        whole, frac = divmod(abs(m), 10**e)
        text[i] = ("-" if m < 0 else "") + (f"{whole}.{frac:0{e}d}" if e else str(whole))
    return _as(text, form)[inverse.reshape(-1)]


def timestamps(secs: np.ndarray, sep: str = "T", suffix: str = "Z", form: str = STR) -> np.ndarray:
    """Epoch seconds -> `2026-11-01T10:00:00Z` (or any separator / offset suffix), via two lookup tables."""
    secs = np.asarray(secs, dtype=np.int64)
    if len(secs) == 0:
        return _as(np.array([], dtype=object), form)
    day, tod = np.divmod(secs, DAY)
    first = int(day.min())
    span = np.arange(first, int(day.max()) + 1, dtype=np.int64)
    day_text = _as(np.strings.add(np.datetime_as_string(span.astype("datetime64[D]"), unit="D"), sep), form)
    tod_text = _as(_time_of_day(suffix), form)
    if form == OBJECT:  # elementwise Python concatenation of shared strings
        return day_text[day - first] + tod_text[tod]
    return np.strings.add(day_text[day - first], tod_text[tod])


def text_array(values: np.ndarray):
    """A pyarrow string array from a numpy column: `S` (bytes) arrays go through binary, the fast path."""
    import pyarrow as pa

    values = np.asarray(values)
    if values.dtype.kind == "S":
        return pa.array(values).cast(pa.string())
    return pa.array(values, type=pa.string(), from_pandas=True)


def python_text(values: np.ndarray) -> list:
    """Python values for a DB-API driver: `S` arrays decoded to str."""
    values = np.asarray(values)
    if values.dtype.kind == "S":
        values = values.astype(f"U{max(values.dtype.itemsize, 1)}")
    return values.tolist()


def dates(secs: np.ndarray) -> np.ndarray:
    """Epoch seconds -> `YYYY-MM-DD` (UTC)."""
    return np.datetime_as_string(np.asarray(secs, dtype=np.int64).astype("datetime64[s]"), unit="D")


class Table(dict):
    """Named numpy columns of one length: the generator's internal tables (no per-row objects)."""

    @property
    def rows(self) -> int:
        return len(next(iter(self.values()))) if self else 0

    def take(self, index: np.ndarray) -> Table:
        return Table({name: col[index] for name, col in self.items()})


_TOD: dict[str, np.ndarray] = {}


def _time_of_day(suffix: str) -> np.ndarray:
    """The 86 400 strings `HH:MM:SS{suffix}`, built once."""
    if suffix not in _TOD:
        secs = np.arange(DAY, dtype=np.int64)
        text = np.datetime_as_string(secs.astype("datetime64[s]"), unit="s")
        text = np.strings.slice(text, 11, 19)
        _TOD[suffix] = np.strings.add(text, suffix) if suffix else text
    return _TOD[suffix]
