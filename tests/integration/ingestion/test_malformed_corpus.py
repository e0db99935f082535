"""The malformed corpus (tests/fixtures/malformed, one file per problem) lands on DuckDB without a crash.

For every file: lines read = loaded + quarantined, in the report and in `landed_files`; every
quarantine row names its file and the problem; files that are merely unusual land whole.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from payrecon.ingestion.config import default_config
from payrecon.ingestion.landing import land_bytes
from payrecon.warehouse.engine import make_engine
from payrecon.warehouse.migrate import upgrade

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "malformed"
FILES = sorted(p for p in CORPUS.glob("*__*") if p.is_file())

# file → (status, lines loaded, what every quarantine reason of the file must say)
EXPECTED: dict[str, tuple[str, int, str | None]] = {
    "adyen__adyen_payout_totals_do_not_tie.csv": ("rejected", 0, "totals do not tie"),
    "novapay__local_time_in_dst_gap.csv": ("landed", 1, "not a valid local time"),
    "paypal__paypal_stl_totals_do_not_tie.CSV": ("rejected", 0, "totals do not tie"),
    "paypal__paypal_stl_truncated_no_footer.CSV": ("rejected", 0, "truncated"),
    "shopgate__absurd_amount.csv": ("landed", 1, "absurd amount"),
    "shopgate__absurd_amount_digits.csv": ("landed", 1, "absurd amount"),
    "shopgate__ambiguous_slash_date.csv": ("landed", 1, "is not a date this format reads"),
    "shopgate__amounts_in_parentheses.csv": ("landed", 1, None),
    "shopgate__binary_garbage_undecodable.csv": ("rejected", 0, "undecodable"),
    "shopgate__blank_lines_between_rows.csv": ("landed", 2, None),
    "shopgate__crlf_line_endings.csv": ("landed", 2, None),
    "shopgate__date_only_without_zone.csv": ("landed", 1, "has no time zone (date only)"),
    "shopgate__date_out_of_range.csv": ("landed", 1, "date out of range"),
    "shopgate__date_without_zone.csv": ("landed", 1, "has no time zone"),
    "shopgate__dates_in_several_formats_and_zones.csv": ("landed", 5, None),
    "shopgate__duplicate_id.csv": ("landed", 1, "duplicate id"),
    "shopgate__duplicated_header_row.csv": ("landed", 2, "duplicated header row"),
    "shopgate__empty_file.csv": ("rejected", 0, "empty file"),
    "shopgate__extra_column_in_header.csv": ("landed", 2, None),
    "shopgate__extra_columns_in_row.csv": ("landed", 1, "extra columns"),
    "shopgate__formula_injection.csv": ("landed", 2, "'=1+1' is not a decimal amount"),
    "shopgate__gigantic_field.csv": ("landed", 1, "gigantic field"),
    "shopgate__header_only.csv": ("empty", 0, None),
    "shopgate__jpy_with_decimals_too_many_decimals.csv": ("landed", 0, "more decimals than JPY allows"),
    "shopgate__latin1_encoding.csv": ("landed", 2, None),
    "shopgate__missing_charge_id.csv": ("landed", 1, "missing charge id"),
    "shopgate__missing_columns_in_row.csv": ("landed", 1, "missing columns"),
    "shopgate__missing_currency.csv": ("landed", 1, "missing currency"),
    "shopgate__missing_id.csv": ("landed", 1, "missing id"),
    "shopgate__missing_required_column_wrong_header.csv": ("rejected", 0, "missing required column(s) 'fee'"),
    "shopgate__net_not_gross_minus_fee.csv": ("landed", 1, "net = gross - fee"),
    "shopgate__no_header_wrong_header.csv": ("rejected", 0, "wrong header"),
    "shopgate__not_a_date.csv": ("landed", 1, "is not a date this format reads"),
    "shopgate__not_a_decimal_amount.csv": ("landed", 1, "line 3, field 'gross': '1,2x3' is not a decimal amount"),
    "shopgate__quoted_newlines.csv": ("landed", 2, None),
    "shopgate__semicolon_delimiter.csv": ("landed", 2, None),
    "shopgate__tab_delimiter.csv": ("landed", 2, None),
    "shopgate__thousands_separators.csv": ("landed", 2, None),
    "shopgate__too_many_decimals.csv": ("landed", 1, "more decimals than USD allows"),
    "shopgate__truncated_inside_quotes.csv": ("landed", 1, "truncated last line"),
    "shopgate__truncated_last_line.csv": ("landed", 2, "truncated last line"),
    "shopgate__unknown_currency.csv": ("landed", 1, "unknown currency 'XYZ'"),
    "shopgate__unknown_line_type.csv": ("landed", 1, "unknown line type"),
    "shopgate__utf16_with_bom.csv": ("landed", 2, None),
    "shopgate__utf16_without_bom_undecodable.csv": ("rejected", 0, "undecodable"),
    "shopgate__utf8_bom.csv": ("landed", 2, None),
    "shopgate__whitespace_only_empty.csv": ("rejected", 0, "empty file"),
    "shopgate__wrong_header.csv": ("rejected", 0, "wrong header"),
    "stripe_eu__stripe_naive_times_are_utc.csv": ("landed", 2, None),
    "stripe_eu__stripe_wrong_header.csv": ("rejected", 0, "wrong header"),
}


def test_corpus_has_one_expectation_per_file_and_at_least_30_files() -> None:
    assert len(FILES) >= 30
    assert sorted(p.name for p in FILES) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory):
    url = f"duckdb:///{tmp_path_factory.mktemp('corpus') / 'warehouse.duckdb'}"
    engine = make_engine(url)
    upgrade(engine)
    config = default_config()
    reports = {}
    for path in FILES:
        gateway = path.name.split("__")[0]
        reports[path.name] = land_bytes(
            engine, path.read_bytes(), file_name=path.name, gateway=gateway, fmt=config.gateways[gateway],
            report_date=date(2026, 11, 1), config=config,
        )
    with engine.connect() as conn:
        tables = {
            t: pd.read_sql(text(f"select * from {t}"), conn) for t in ("landed_files", "settlement_lines", "quarantine")
        }
    engine.dispose()
    return reports, tables


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_file_is_accounted_for(landed, name: str) -> None:
    reports, tables = landed
    status, loaded, problem = EXPECTED[name]
    rep = reports[name]
    assert (rep.status, rep.lines_loaded) == (status, loaded), rep
    assert rep.lines_read == rep.lines_loaded + rep.lines_quarantined
    manifest = tables["landed_files"].set_index("file_id").loc[rep.file_id]
    assert manifest["lines_read"] == manifest["lines_loaded"] + manifest["lines_quarantined"]
    assert (manifest["status"], manifest["lines_loaded"]) == (status, loaded)
    lines = tables["settlement_lines"]
    assert int((lines["file_id"] == rep.file_id).sum()) == loaded
    quarantined = tables["quarantine"][tables["quarantine"]["file_id"] == rep.file_id]
    if problem is None:
        assert quarantined.empty, quarantined["reason"].tolist()
        return
    assert not quarantined.empty
    for reason in quarantined["reason"]:
        assert reason.startswith(name) and problem in reason, reason
    if status == "rejected":
        assert quarantined["line_no"].tolist() == [0]
        assert rep.detail and problem in rep.detail
    else:
        assert len(quarantined) == rep.lines_quarantined
        assert (quarantined["raw_line"].str.len() > 0).all()


def _lines_of(landed, name: str) -> pd.DataFrame:
    reports, tables = landed
    lines = tables["settlement_lines"]
    return lines[lines["file_id"] == reports[name].file_id].sort_values("line_no").reset_index(drop=True)


def test_unusual_but_valid_files_keep_their_values(landed) -> None:
    latin = _lines_of(landed, "shopgate__latin1_encoding.csv")
    assert latin["description"].tolist() == ["first", "Café crème"]
    parens = _lines_of(landed, "shopgate__amounts_in_parentheses.csv")
    assert parens[["gross_minor", "net_minor"]].iloc[0].tolist() == [-2500, -2500]
    thousands = _lines_of(landed, "shopgate__thousands_separators.csv")
    assert thousands["gross_minor"].tolist() == [123456, 1234500]
    quoted = _lines_of(landed, "shopgate__quoted_newlines.csv")
    assert quoted["description"].iloc[0] == "two\nlines, quoted"
    assert quoted["line_no"].tolist() == [2, 4]  # the quoted newline spans line 3
    blank = _lines_of(landed, "shopgate__blank_lines_between_rows.csv")
    assert blank["line_no"].tolist() == [2, 5]
    dates = _lines_of(landed, "shopgate__dates_in_several_formats_and_zones.csv")
    assert [t.strftime("%H:%M:%S.%f") for t in pd.to_datetime(dates["occurred_at"], utc=True)] == [
        "04:30:00.000000", "10:00:00.000000", "17:00:00.000000", "10:00:00.123456", "14:00:00.000000",
    ]
    stripe = _lines_of(landed, "stripe_eu__stripe_naive_times_are_utc.csv")
    assert stripe["line_type"].tolist() == ["charge", "adjustment"]
    assert stripe["order_ref"].iloc[0] == "9001"


def test_formula_injection_strings_are_kept_as_raw_text(landed) -> None:
    lines = _lines_of(landed, "shopgate__formula_injection.csv")
    assert lines["description"].iloc[0] == '=HYPERLINK("http://evil.example","x")'
    assert lines["order_ref"].iloc[1] == "@SUM(A1:A9)"
    assert lines["description"].iloc[1] == "+cmd|' /C calc'!A0"


def test_gigantic_field_is_cut_in_quarantine_but_named(landed) -> None:
    reports, tables = landed
    q = tables["quarantine"]
    row = q[q["file_id"] == reports["shopgate__gigantic_field.csv"].file_id].iloc[0]
    assert row["field"] == "description"
    assert len(row["raw_line"]) < 5_000 and "more characters cut" in row["raw_line"]


def test_rows_refused_by_validation_keep_their_raw_csv_text(landed) -> None:
    reports, tables = landed
    q = tables["quarantine"]
    row = q[q["file_id"] == reports["shopgate__net_not_gross_minus_fee.csv"].file_id].iloc[0]
    assert row["raw_line"] == "t2,charge,ch_2,102,2026-11-01T10:00:00Z,USD,10.00,0.59,9.50,x"
    assert row["field"] == "net" and row["line_no"] == 3
