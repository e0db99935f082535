"""Per-window output finance can open without help: the full state list as CSV, and a summary.

A window holds a million lines and orders: `reconciliation.csv` is formatted in SQL (money in major units
per row currency, cells a spreadsheet would run as formulas neutralised) and written by the engine's own
CSV writer (`bulk.copy_to_csv`: DuckDB `COPY ... TO`, PostgreSQL `COPY ... TO STDOUT`), so no row passes
through Python. The small summary goes through Arrow compute. Both files hold the bytes
`pandas.DataFrame.to_csv` writes for the same cells (minimal quoting, empty for null, `\\n` line ends).
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from payrecon.money import exponent
from payrecon.settings import Window
from payrecon.warehouse.bulk import copy_to_csv, read_arrow

_DETAIL_COLUMNS = ["item_type", "item_id", "state", "gateway", "order_id", "line_id", "currency", "detail"]
_DETAIL_MONEY = ["expected_minor", "settled_minor", "difference_minor", "fee_minor"]
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")

_SUMMARY = """
select
    item_type,
    state,
    currency,
    count(*) as items,
    sum(coalesce(settled_minor, expected_minor, 0)) as amount_minor,
    sum(coalesce(fee_minor, 0)) as fee_minor
from reconciliation_results
where window_start = :ws
group by item_type, state, currency
order by item_type, state, currency
"""

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# a plain number is not a formula even with a leading minus (`-12.50`); \p{Nd} = any Unicode digit, as \d in re
_PLAIN_NUMBER = r"^-?\p{Nd}+(\.\p{Nd}+)?$"
_NEEDS_QUOTES = '[,"\n]'
_LEADS = pa.array(list(_FORMULA_LEADS), pa.string())
# detail columns that carry text from outside (gateway files, the commerce DB); the others are our own
# vocabulary (item_type, state) or amounts we format, which are never formulas
_DETAIL_TEXT = ["item_id", "gateway", "order_id", "line_id", "currency", "detail"]


def _major(minor: pa.Array, currency: pa.Array) -> pa.Array:
    """Exact decimal strings in major units per row currency (`12.34`, `-0.05`, `1200` for JPY);
    empty where the amount or the currency is missing. An unknown currency raises ValueError."""
    minor = pc.cast(minor, pa.int64())
    currency = pc.cast(currency, pa.string())
    known = pc.and_(pc.is_valid(minor), pc.is_valid(currency))
    codes = [c for c in pc.unique(pc.filter(currency, known)).to_pylist()]
    digits = pa.array([exponent(c) for c in codes], pa.int64())
    exp = pc.take(digits, pc.index_in(currency, value_set=pa.array(codes, pa.string())))
    # the minor units as a decimal of the currency's exponent print as major units ("-0.05", "1200"):
    # one cast per exponent present, the unscaled integers reinterpreted, no arithmetic
    unscaled = pc.cast(minor, pa.decimal128(20, 0))
    if unscaled.offset:
        unscaled = pa.concat_arrays([unscaled])  # buffers from offset 0
    out = None
    for e in sorted({int(x) for x in digits.to_pylist()}) or [0]:
        scaled = pa.Array.from_buffers(pa.decimal128(20, e), len(unscaled), unscaled.buffers(),
                                       null_count=unscaled.null_count)
        text = pc.cast(scaled, pa.string())
        out = text if out is None else pc.if_else(pc.equal(exp, e), text, out)
    return pc.if_else(known, out, pa.scalar("", pa.string()))


def _neutralised(values: pa.Array) -> pa.Array:
    """Prefix a cell a spreadsheet would run as a formula with a quote (plain numbers stay as they are)."""
    values = pc.cast(values, pa.string())
    risky = pc.is_in(pc.utf8_slice_codeunits(values, 0, 1), value_set=_LEADS)
    if not pc.any(risky).as_py():  # the usual column: one pass, nothing to change
        return values
    risky = pc.and_(risky, pc.invert(pc.match_substring_regex(values, _PLAIN_NUMBER)))
    return pc.if_else(pc.fill_null(risky, False), pc.binary_join_element_wise("'", values, ""), values)


def neutralise_formulas(table, text_columns: list[str] | None = None):  # noqa: ANN001, ANN201
    """The table (Arrow, or a pandas frame for the report writers) with every text column, or the ones
    named, neutralised; numbers stay numbers."""
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        out = table.copy()
        names = text_columns if text_columns is not None else [
            c for c in out.columns if out[c].dtype == object or pd.api.types.is_string_dtype(out[c])
        ]
        for name in names:
            values = out[name]
            texts = values.map(lambda v: v if isinstance(v, str) else None)
            if texts.notna().any():
                fixed = _neutralised(pa.array(texts.tolist(), pa.string())).to_pylist()
                out[name] = [f if isinstance(v, str) else v for v, f in zip(values, fixed, strict=True)]
        return out
    names = text_columns if text_columns is not None else [
        f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    for name in names:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, _neutralised(table.column(name).combine_chunks()))
    return table


def _csv_cell(values: pa.Array) -> pa.Array:
    """A column as CSV cells: minimal quoting (a cell holding `,` `"` or LF is quoted, quotes doubled),
    empty for null."""
    text = pc.cast(values, pa.string())
    needs = pc.fill_null(pc.match_substring_regex(text, _NEEDS_QUOTES), False)
    if not pc.any(needs).as_py():  # the usual column: no cell to quote
        return pc.fill_null(text, "")
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.fill_null(pc.if_else(needs, quoted, text), "")


def _header_cell(name: str) -> str:
    return f'"{name.replace(chr(34), chr(34) * 2)}"' if any(c in name for c in ',"\r\n') else name


def write_csv(table: pa.Table, path: Path) -> None:
    """Header and rows, comma-separated, `\\n` after every line (pandas' `to_csv(index=False)` bytes)."""
    with open(path, "wb") as fh:
        fh.write((",".join(_header_cell(n) for n in table.column_names) + "\n").encode())
        if table.num_rows == 0:
            return
        step = 500_000
        for start in range(0, table.num_rows, step):
            part = table.slice(start, step)
            cells = [_csv_cell(part.column(i).combine_chunks()) for i in range(part.num_columns)]
            lines = pc.binary_join_element_wise(*cells, ",") if len(cells) > 1 else cells[0]
            fh.write(_concatenated(pc.binary_join_element_wise(lines, "", "\n")))


def _concatenated(strings: pa.Array) -> memoryview:
    """The bytes of a string array without nulls, values back to back (no copy)."""
    import numpy as np

    _, offsets, data = strings.buffers()
    if data is None:
        return memoryview(b"")
    width = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[strings.offset: strings.offset + len(strings) + 1]
    return memoryview(data)[int(bounds[0]): int(bounds[-1])]


def summary_table(raw: pa.Table) -> pa.Table:
    currency = raw.column("currency").combine_chunks()
    out = pa.table({
        "item_type": pc.cast(raw.column("item_type"), pa.string()),
        "state": pc.cast(raw.column("state"), pa.string()),
        "currency": pc.cast(raw.column("currency"), pa.string()),
        "items": pc.cast(raw.column("items"), pa.int64()),
    })
    out = out.append_column("amount", _major(raw.column("amount_minor").combine_chunks(), currency))
    return out.append_column("fees", _major(raw.column("fee_minor").combine_chunks(), currency))


def _major_sql(minor: str, exponents: dict[str, int]) -> str:
    """SQL text of `minor` (integer minor units) in major units per row currency, as `_major` formats
    them (`12.34`, `-0.05`, `1200`), by string arithmetic both engines share; null where the amount or
    the currency is missing. `exponents` names every currency the rows hold."""
    by_exponent: dict[int, list[str]] = {}
    for code, digits in sorted(exponents.items()):
        by_exponent.setdefault(digits, []).append(code)
    branches = []
    for digits, codes in sorted(by_exponent.items()):
        listed = ", ".join(f"'{c}'" for c in codes)
        if digits == 0:
            shown = f"cast({minor} as varchar)"
        else:
            digits_text = f"cast(abs({minor}) as varchar)"  # lpad truncates a longer string: pad to at least
            padded = f"lpad({digits_text}, cast(greatest(length({digits_text}), {digits + 1}) as integer), '0')"
            shown = (f"case when {minor} < 0 then '-' else '' end || left({padded}, length({padded}) - {digits})"
                     f" || '.' || right({padded}, {digits})")
        branches.append(f"when currency in ({listed}) then {shown}")
    if not branches:
        return "cast(null as varchar)"
    return f"case when {minor} is null then null {' '.join(branches)} end"


def _neutralised_sql(column: str, dialect: str) -> str:
    """SQL text of `_neutralised` for one text column; an empty string comes out as NULL (an empty cell,
    as pandas writes it)."""
    plain = (f"regexp_full_match({column}, '-?[0-9]+([.][0-9]+)?')" if dialect == "duckdb"
             else f"{column} ~ '^-?[0-9]+([.][0-9]+)?$'")
    leads = ", ".join(["'='", "'+'", "'-'", "'@'", "chr(9)", "chr(13)"])
    quote = "''''"  # SQL for a one-quote string
    return (f"case when {column} = '' then null when left({column}, 1) in ({leads}) and not ({plain}) "
            f"then {quote} || {column} else {column} end")


def detail_query(exponents: dict[str, int], dialect: str) -> str:
    """The `reconciliation.csv` rows of one window (bind `:ws`), formatted for the file in SQL."""
    for code in exponents:
        if not _CURRENCY_CODE.match(code):
            raise ValueError(f"not an ISO currency code: {code!r}")
    text_cols = [f"{_neutralised_sql(c, dialect) if c in _DETAIL_TEXT else c} as {c}" for c in _DETAIL_COLUMNS]
    money = [f"{_major_sql(c, exponents)} as {c.replace('_minor', '')}" for c in _DETAIL_MONEY]
    return (f"select {', '.join(text_cols + money)} from reconciliation_results "
            "where window_start = :ws order by item_type, state, item_id")


def write_window_outputs(engine: Engine, window: Window, output_dir: Path) -> list[Path]:
    """Write `reconciliation.csv` (one row per line and order) and `summary.csv` for the window."""
    folder = Path(output_dir) / "reconciliation" / window.label
    folder.mkdir(parents=True, exist_ok=True)
    detail_path, summary_path = folder / "reconciliation.csv", folder / "summary.csv"
    with engine.connect() as conn:
        summary = read_arrow(conn, _SUMMARY, {"ws": window.start})
        codes = {c for c in pc.unique(pc.cast(summary.column("currency"), pa.string())).to_pylist() if c}
        exponents = {c: exponent(c) for c in codes}  # an unknown currency raises here, before any file
        copy_to_csv(conn, detail_query(exponents, conn.dialect.name), {"ws": window.start}, detail_path)
    summary = summary_table(summary)
    write_csv(neutralise_formulas(summary, ["item_type", "state", "currency", "amount", "fees"]), summary_path)
    return [detail_path, summary_path]
