"""Per-window output finance can open without help: the full state list as CSV, and a summary.

A window holds a million lines and orders: the rows come out of the warehouse by its bulk path (Arrow
from DuckDB, COPY from PostgreSQL), money is formatted and cells neutralised column-wise with Arrow
compute, and the CSV text is assembled column-wise too -- no Python per row. The bytes are the ones
`pandas.DataFrame.to_csv` wrote for the same rows (minimal quoting, empty for null, `\\n` line ends).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from payrecon.money import exponent
from payrecon.settings import Window
from payrecon.warehouse.bulk import read_arrow

_DETAIL = """
select
    item_type,
    item_id,
    state,
    gateway,
    order_id,
    line_id,
    currency,
    expected_minor,
    settled_minor,
    difference_minor,
    fee_minor,
    detail
from reconciliation_results
where window_start = :ws
order by item_type, state, item_id
"""

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


def detail_table(raw: pa.Table) -> pa.Table:
    """`_DETAIL` rows -> the file's columns: money in major units after the text columns."""
    currency = raw.column("currency").combine_chunks()
    out = raw.drop_columns(["expected_minor", "settled_minor", "difference_minor", "fee_minor"])
    out = out.select(["item_type", "item_id", "state", "gateway", "order_id", "line_id", "currency", "detail"])
    out = pa.table({n: pc.cast(out.column(n), pa.string()) for n in out.column_names})
    for col in ("expected_minor", "settled_minor", "difference_minor", "fee_minor"):
        out = out.append_column(col.replace("_minor", ""), _major(raw.column(col).combine_chunks(), currency))
    return out


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


def write_window_outputs(engine: Engine, window: Window, output_dir: Path) -> list[Path]:
    """Write `reconciliation.csv` (one row per line and order) and `summary.csv` for the window."""
    folder = Path(output_dir) / "reconciliation" / window.label
    folder.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        detail = read_arrow(conn, _DETAIL, {"ws": window.start})
        summary = read_arrow(conn, _SUMMARY, {"ws": window.start})
    detail_path, summary_path = folder / "reconciliation.csv", folder / "summary.csv"
    write_csv(neutralise_formulas(detail_table(detail), _DETAIL_TEXT), detail_path)
    summary = summary_table(summary)
    write_csv(neutralise_formulas(summary, ["item_type", "state", "currency", "amount", "fees"]), summary_path)
    return [detail_path, summary_path]
