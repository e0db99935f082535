"""Robust, vectorised CSV reading: the bytes of a file in, a table of strings with line numbers out.

What it copes with: a UTF-8 byte-order mark, UTF-16 with a mark, Latin-1/Windows-1252 when the bytes are
not UTF-8, `\\r\\n` and bare `\\r` line ends, `,` `;` tab or `|` delimiters (sniffed on the header),
quoted fields holding delimiters or newlines, blank lines, a header row repeated inside the file, rows
with too many or too few fields, a truncated last line (or a file that ends inside a quoted field) and
gigantic fields. What it refuses (raising `UnreadableFile`): an empty file, binary content, a file with
no header line.

How it stays fast: one numpy pass over the bytes finds every record (a newline ends a record only when
the count of quotes before it is even; `""` escapes keep the parity right), its physical line number and
its field count; pyarrow's multi-threaded CSV reader then parses the good records. Records with the wrong
field count never reach pyarrow's output (its invalid-row handler skips them) and are reported with their
own line number and raw text. If the two passes ever disagree on the row count, the file is read again
with Python's `csv` module: slower, same result.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from payrecon.ingestion.errors import UnreadableFile

MAX_FIELD_CHARS = 10_000
"""A field longer than this quarantines its row ("gigantic field"); real settlement fields are short."""

RAW_LINE_LIMIT = 4_000
"""Raw text kept for a quarantined row is cut to this many characters (the file itself is never lost)."""

_DELIMITERS = (",", ";", "\t", "|")
_NON_SPACE = re.compile(rb"\S")
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13))


@dataclass(frozen=True)
class BadRecord:
    """A record that could not become a row: its physical line number, the problem and the raw text."""

    line_no: int
    reason: str
    raw: str
    field: str | None = None


@dataclass(frozen=True)
class RawIndex:
    """Raw text of a record by its physical line number (for lines refused after parsing)."""

    body: bytes = field(repr=False)
    line_no: np.ndarray = field(repr=False)
    starts: np.ndarray = field(repr=False)
    ends: np.ndarray = field(repr=False)

    def __call__(self, line_no: int) -> str | None:
        i = int(np.searchsorted(self.line_no, line_no))
        if i < len(self.line_no) and self.line_no[i] == line_no:
            return clip(self.body[self.starts[i] : self.ends[i]].decode("utf-8", "replace"))
        return None


@dataclass
class CsvTable:
    """The readable rows of a CSV file, all as strings, with where each came from."""

    header: list[str]
    frame: pd.DataFrame
    line_no: np.ndarray
    bad: list[BadRecord]
    encoding: str
    delimiter: str
    header_line_no: int
    _body: bytes = field(repr=False, default=b"")
    _starts: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, np.int64))
    _ends: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, np.int64))

    @property
    def lines_read(self) -> int:
        return len(self.frame) + len(self.bad)

    def raw_line(self, row: int) -> str:
        """The raw text of row `row` of `frame` (for quarantine only)."""
        return clip(self._body[self._starts[row] : self._ends[row]].decode("utf-8", "replace"))

    def raw_for_line(self, line_no: int) -> str | None:
        """The raw text of the row starting at physical line `line_no`, if it is still in `frame`."""
        return self.raw_index()(line_no)

    def raw_index(self) -> RawIndex:
        """`raw_for_line` without the table: keeps the file's bytes and record bounds, not `frame` (which a
        parser is done with once its columns are normalised; a 1M-line file's strings are hundreds of MB)."""
        return RawIndex(self._body, self.line_no, self._starts, self._ends)

    def drop_rows(self, mask: np.ndarray, reasons: Sequence[str], fields: Sequence[str | None]) -> None:
        """Move the rows under `mask` from `frame` to `bad`, with one reason (and field) per moved row."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        for i, reason, fld in zip(idx, reasons, fields, strict=True):
            self.bad.append(BadRecord(int(self.line_no[i]), reason, self.raw_line(int(i)), fld))
        keep = ~mask
        self.frame = self.frame.loc[keep].reset_index(drop=True)
        self.line_no = self.line_no[keep]
        self._starts = self._starts[keep]
        self._ends = self._ends[keep]


def clip(text: str, limit: int = RAW_LINE_LIMIT) -> str:
    """Cut long text for storage, saying how much was cut; strip NULs (PostgreSQL text cannot hold them)."""
    text = text.replace("\x00", "\\x00")
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


# ---------------------------------------------------------------------------------------------- decoding


def decode(data: bytes) -> tuple[bytes, str]:
    """UTF-8 bytes with `\\n` line ends, and the encoding the file was in."""
    if not data:
        raise UnreadableFile("empty", "empty file (0 bytes)")
    if data.startswith(codecs.BOM_UTF8):
        body, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            body = _utf8_or_truncated(body, exc, with_bom=True)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            body, encoding = data.decode("utf-16").encode("utf-8"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UnreadableFile("undecodable", f"undecodable: UTF-16 byte-order mark but invalid UTF-16 ({exc.reason})") from exc
    else:
        if b"\x00" in data:
            raise UnreadableFile(
                "undecodable",
                "undecodable: binary content (NUL bytes; not a text file, or UTF-16 without a byte-order mark)",
            )
        try:
            data.decode("utf-8")
            body, encoding = data, "utf-8"
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data":
                body, encoding = _utf8_or_truncated(data, exc, with_bom=False), "utf-8"
            else:
                try:
                    body, encoding = data.decode("cp1252").encode("utf-8"), "cp1252"
                except UnicodeDecodeError:
                    body, encoding = data.decode("latin-1").encode("utf-8"), "latin-1"
    if b"\x00" in body:
        raise UnreadableFile("undecodable", "undecodable: binary content (NUL characters)")
    sample = body[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(sample) // 100):
        raise UnreadableFile("undecodable", f"undecodable: binary content ({controls} control characters)")
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if _NON_SPACE.search(body) is None:
        raise UnreadableFile("empty", "empty file (only whitespace)")
    return body, encoding


def _utf8_or_truncated(body: bytes, exc: UnicodeDecodeError, *, with_bom: bool) -> bytes:
    """A UTF-8 file cut inside its last character keeps its encoding; anything else is refused or Latin-1."""
    if exc.reason == "unexpected end of data" and exc.end >= len(body) - 3:
        return body[: exc.start] + "\ufffd".encode()
    if with_bom:
        raise UnreadableFile("undecodable", f"undecodable: UTF-8 byte-order mark but invalid UTF-8 at byte {exc.start}")
    return body.decode("cp1252", "replace").encode("utf-8")


# -------------------------------------------------------------------------------------------- scanning


@dataclass(frozen=True)
class _Records:
    starts: np.ndarray
    ends: np.ndarray
    line_no: np.ndarray
    quotes: np.ndarray | None
    unterminated: bool
    quoted_newlines: bool


def _scan(body: bytes) -> _Records:
    """Record boundaries and physical line numbers (one pass for newlines, one for quotes)."""
    b = np.frombuffer(body, dtype=np.uint8)
    newlines = _positions(b, 10)
    quotes = _positions(b, 34) if body.find(b'"') != -1 else None
    if quotes is not None:
        # A newline ends a record only when an even number of quotes precede it ("" escapes keep parity).
        seps = newlines[(np.searchsorted(quotes, newlines) & 1) == 0]
        unterminated = bool(len(quotes) & 1)
    else:
        seps = newlines
        unterminated = False
    starts = np.concatenate((np.zeros(1, np.int64), seps.astype(np.int64) + 1))
    ends = np.concatenate((seps.astype(np.int64), np.array([len(b)], np.int64)))
    if starts[-1] >= len(b):
        starts, ends = starts[:-1], ends[:-1]
    line_no = np.searchsorted(newlines, starts) + 1
    return _Records(starts, ends, line_no.astype(np.int64), quotes, unterminated, len(seps) < len(newlines))


_SCAN_CHUNK = 1 << 24


def _positions(b: np.ndarray, byte: int) -> np.ndarray:
    """Offsets of `byte` in `b`, 16 MB at a time: `b == byte` on the whole file would hold a bool array
    as large as the file (a 1M-line settlement file is ~120 MB) just to find a few hundred thousand."""
    if len(b) <= _SCAN_CHUNK:
        return np.flatnonzero(b == byte)
    parts = [np.flatnonzero(b[i : i + _SCAN_CHUNK] == byte) + i for i in range(0, len(b), _SCAN_CHUNK)]
    return np.concatenate(parts)


def _field_counts(body: bytes, rec: _Records, delimiter: str) -> np.ndarray:
    """Fields per record (only computed when pyarrow reports rows of the wrong width)."""
    b = np.frombuffer(body, dtype=np.uint8)
    starts, quotes, unterminated = rec.starts, rec.quotes, rec.unterminated
    delims = np.flatnonzero(b == ord(delimiter))
    bounds = np.concatenate((starts, np.array([len(b) + 1], np.int64)))
    nfields = np.diff(np.searchsorted(delims, bounds)) + 1
    if quotes is not None and len(delims):
        # Delimiters inside quoted spans [q0, q1), [q2, q3) ... do not separate fields.
        pairs = quotes[: len(quotes) // 2 * 2].reshape(-1, 2)
        inside = np.searchsorted(delims, pairs[:, 1]) - np.searchsorted(delims, pairs[:, 0])
        hit = inside > 0
        if hit.any():
            owner = np.searchsorted(starts, pairs[hit, 0], side="right") - 1
            nfields = nfields - np.bincount(owner, weights=inside[hit], minlength=len(starts)).astype(np.int64)
        if unterminated:
            tail = int(np.searchsorted(starts, quotes[-1], side="right") - 1)
            nfields[tail] -= int(np.count_nonzero(delims > quotes[-1]))
    return nfields.astype(np.int64)


def sniff_delimiter(header_line: str) -> str:
    """The candidate delimiter that splits the header line (outside quotes) most often; `,` if none does."""
    outside = []
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(ch)
    text = "".join(outside)
    best = max(_DELIMITERS, key=text.count)
    return best if text.count(best) else ","


def _split_header(line: str, delimiter: str) -> list[str]:
    row = next(csv.reader([line], delimiter=delimiter), [])
    names = [c.strip().lstrip("\ufeff").strip() for c in row]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


# ------------------------------------------------------------------------------------------- reading


def read_csv(data: bytes, *, delimiter: str | None = None, header_predicate=None) -> CsvTable:
    """Read a settlement CSV. `header_predicate(names) -> bool` picks the header among the first lines
    (default: the first non-blank line)."""
    body, encoding = decode(data)
    first_nl = body.find(b"\n")
    probe = body[: first_nl if first_nl != -1 else len(body)].decode("utf-8", "replace")
    delim = delimiter or sniff_delimiter(probe)
    rec = _scan(body)
    nonblank = np.flatnonzero(rec.ends > rec.starts)
    if not len(nonblank):
        raise UnreadableFile("empty", "empty file (no lines)")
    h = int(nonblank[0])
    if header_predicate is not None:
        for cand in nonblank[:20]:
            names = _split_header(body[rec.starts[cand] : rec.ends[cand]].decode("utf-8", "replace"), delim)
            if header_predicate(names):
                h = int(cand)
                break
    header_text = body[rec.starts[h] : rec.ends[h]].decode("utf-8", "replace")
    if delimiter is None and h != 0:
        delim = sniff_delimiter(header_text)
    header = _split_header(header_text, delim)
    width = len(header)

    candidates = nonblank[nonblank > h]
    last = len(rec.starts) - 1
    frame, invalid = None, -1
    if len(candidates):
        cut_end = int(rec.starts[last]) if rec.unterminated else len(body)
        payload = memoryview(body)[int(rec.starts[h + 1]) : cut_end]
        max_len = int(np.max(rec.ends[candidates] - rec.starts[candidates]))
        frame, invalid = _arrow_read(payload, header, delim, max_len, rec.quoted_newlines)
    bad: list[BadRecord] = []
    if frame is not None and invalid == 0 and not rec.unterminated and len(frame) == len(candidates):
        good = candidates
    else:
        good, bad = _classify(body, rec, candidates, width, delim)
        if len(good) and (frame is None or len(frame) != len(good)):
            frame = _python_read(body, rec, good, header, delim)
    if frame is None:
        frame = pd.DataFrame({name: pd.Series([], dtype="str") for name in header})
    table = CsvTable(
        header=header,
        frame=frame,
        line_no=rec.line_no[good].copy(),
        bad=bad,
        encoding=encoding,
        delimiter=delim,
        header_line_no=int(rec.line_no[h]),
        _body=body,
        _starts=rec.starts[good].copy(),
        _ends=rec.ends[good].copy(),
    )
    _drop_repeated_headers(table)
    if len(good) and int(np.max(rec.ends[good] - rec.starts[good])) > MAX_FIELD_CHARS:
        _drop_gigantic_fields(table)
    return table


def _classify(
    body: bytes, rec: _Records, candidates: np.ndarray, width: int, delim: str
) -> tuple[np.ndarray, list[BadRecord]]:
    """Split the data records into those of the header's width and the rest (with why)."""
    nfields = _field_counts(body, rec, delim)
    counts = nfields[candidates]
    ok = counts == width
    if rec.unterminated and len(candidates) and candidates[-1] == len(rec.starts) - 1:
        ok[-1] = False
    good = candidates[ok]
    last = len(rec.starts) - 1
    ends_with_newline = body.endswith(b"\n")
    bad = []
    for r in candidates[~ok]:
        raw = clip(body[rec.starts[r] : rec.ends[r]].decode("utf-8", "replace"))
        n = int(nfields[r])
        if r == last and rec.unterminated:
            reason = f"truncated last line: the file ends inside a quoted field ({n} of {width} fields)"
        elif r == last and not ends_with_newline and n < width:
            reason = f"truncated last line: {n} of {width} fields and no end of line"
        elif n > width:
            reason = f"extra columns: expected {width} fields, found {n}"
        else:
            reason = f"missing columns: expected {width} fields, found {n}"
        bad.append(BadRecord(int(rec.line_no[r]), reason, raw))
    return good, bad


def _arrow_read(
    payload: memoryview, header: list[str], delim: str, max_len: int, quoted_newlines: bool
) -> tuple[pd.DataFrame | None, int]:
    """pyarrow's reader on the data records; returns the frame (None if it failed) and the rows it skipped."""
    names = [f"c{i}" for i in range(len(header))]
    skipped = []

    def on_invalid(row) -> str:  # noqa: ANN001 - pyarrow InvalidRow
        skipped.append(row.actual_columns)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(payload)),
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=max(1 << 22, 2 * max_len + 1024), use_threads=True
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                newlines_in_values=quoted_newlines,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None, -1
    return table.rename_columns(header).to_pandas(), len(skipped)


def _python_read(body: bytes, rec: _Records, good: np.ndarray, header: list[str], delim: str) -> pd.DataFrame:
    """The slow, forgiving path: Python's csv module on exactly the records the scan found good."""
    rows = []
    for r in good:
        text = body[rec.starts[r] : rec.ends[r]].decode("utf-8", "replace")
        parsed = next(csv.reader([text], delimiter=delim, strict=False), [])
        parsed = (parsed + [""] * len(header))[: len(header)]
        rows.append(parsed)
    return pd.DataFrame(rows, columns=header, dtype="str")


def _drop_repeated_headers(table: CsvTable) -> None:
    frame = table.frame
    if frame.empty:
        return
    first = table.header[0]
    mask = (frame[first].str.strip() == first).to_numpy(dtype=bool, na_value=False).copy()
    if not mask.any():
        return
    for name in table.header[1:]:
        mask = mask & (frame[name].str.strip() == name.split(".")[0]).to_numpy(dtype=bool, na_value=False)
    n = int(mask.sum())
    table.drop_rows(mask, ["duplicated header row inside the file"] * n, [None] * n)


def _drop_gigantic_fields(table: CsvTable) -> None:
    frame = table.frame
    if frame.empty:
        return
    mask = np.zeros(len(frame), dtype=bool)
    reasons = np.full(len(frame), None, dtype=object)
    fields = np.full(len(frame), None, dtype=object)
    for name in table.header:
        lengths = frame[name].str.len().to_numpy(dtype=np.int64, na_value=0)
        over = (lengths > MAX_FIELD_CHARS) & ~mask
        for i in np.flatnonzero(over):
            reasons[i] = f"gigantic field: {lengths[i]:,} characters (limit {MAX_FIELD_CHARS:,})"
            fields[i] = name
        mask |= over
    if mask.any():
        table.drop_rows(mask, list(reasons[mask]), list(fields[mask]))
