"""Robust CSV reading and the vectorised field converters, one rule per test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from payrecon.ingestion import fields as F
from payrecon.ingestion.csv_reading import read_csv, sniff_delimiter
from payrecon.ingestion.errors import UnreadableFile


def _arr(values: list[str]) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(values, pa.large_string())])


def test_line_numbers_are_physical_lines_even_with_quoted_newlines_and_blank_lines() -> None:
    table = read_csv(b'a,b\n1,"x\ny"\n\n2,z\n')
    assert table.frame["b"].tolist() == ["x\ny", "z"]
    assert table.line_no.tolist() == [2, 5]


def test_bad_rows_keep_their_raw_text_and_reason() -> None:
    table = read_csv(b"a,b\n1,2\n1,2,3\n4\n")
    assert [(b.line_no, b.reason, b.raw) for b in table.bad] == [
        (3, "extra columns: expected 2 fields, found 3", "1,2,3"),
        (4, "missing columns: expected 2 fields, found 1", "4"),
    ]
    assert table.lines_read == 3


@pytest.mark.parametrize(
    ("line", "delimiter"), [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("a|b|c", "|"), ('"a;b",c', ",")]
)
def test_delimiter_is_sniffed_outside_quotes(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line) == delimiter


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"", "empty"), (b" \n\t\n", "empty"), (b"a,b\x00\x00c", "undecodable"), (bytes(range(1, 32)) * 10, "undecodable")],
)
def test_unreadable_files_name_the_problem(data: bytes, problem: str) -> None:
    with pytest.raises(UnreadableFile) as exc:
        read_csv(data)
    assert exc.value.problem == problem


def test_utf8_cut_inside_its_last_character_stays_utf8() -> None:
    table = read_csv("a,b\n1,é\n2,é".encode()[:-1])
    assert table.encoding == "utf-8"
    assert table.frame["b"].iloc[0] == "é"


@pytest.mark.parametrize(
    ("raw", "currency_exp", "expected"),
    [
        ("12.34", 2, 1234),
        ("-12.34", 2, -1234),
        ("+12", 2, 1200),
        ("(12.34)", 2, -1234),
        ("1,234.56", 2, 123456),
        ("1 234.56", 2, 123456),
        ("1.234,56", 2, 123456),
        ("12.340000", 2, 1234),
        ("5000", 0, 5000),
        ("12.345", 3, 12345),
    ],
)
def test_amounts_are_exact_minor_units(raw: str, currency_exp: int, expected: int) -> None:
    errors = F.RowErrors(1)
    values, present = F.amounts(_arr([raw]), np.array([currency_exp]), errors, "gross")
    assert errors.reason[0] is None
    assert (int(values[0]), bool(present[0])) == (expected, True)


def test_decimal_comma_files_read_comma_as_the_decimal_point() -> None:
    errors = F.RowErrors(3)
    values, _ = F.amounts(_arr(["12,34", "1.234,56", "-0,5"]), np.array([2, 2, 2]), errors, "gross", decimal_comma=True)
    assert values.tolist() == [1234, 123456, -50]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("1,2x3", "is not a decimal amount"),
        ("12.345", "has more decimals than"),
        ("12e3", "is not a decimal amount"),
        ("--5", "is not a decimal amount"),
        ("123456789012345678901", "absurd amount"),
        ("", "missing amount"),
    ],
)
def test_amount_problems_are_named(raw: str, problem: str) -> None:
    errors = F.RowErrors(1)
    F.amounts(_arr([raw]), np.array([2]), errors, "gross")
    assert problem in errors.reason[0] and errors.field[0] == "gross"


@pytest.mark.parametrize(
    ("raw", "naive_tz", "expected"),
    [
        ("2026-11-01T10:00:00Z", None, "2026-11-01 10:00"),
        ("2026-11-01T10:00:00+01:00", None, "2026-11-01 09:00"),
        ("2026-11-01 10:00:00 UTC", None, "2026-11-01 10:00"),
        ("2026/11/01 10:00:00 -0700", None, "2026-11-01 17:00"),
        ("2026-11-01 10:00:00", "UTC", "2026-11-01 10:00"),
        ("2026-11-01 10:00:00", "Europe/Berlin", "2026-11-01 09:00"),
        ("01.11.2026 10:00", "Europe/Berlin", "2026-11-01 09:00"),
    ],
)
def test_timestamps_are_normalised_to_utc(raw: str, naive_tz: str | None, expected: str) -> None:
    errors = F.RowErrors(1)
    out, present = F.timestamps(_arr([raw]), errors, "occurred_at", naive_tz=naive_tz)
    assert errors.reason[0] is None, errors.reason[0]
    assert out.iloc[0] == pd.Timestamp(expected, tz="UTC")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("2026-11-01 10:00:00", "has no time zone"),
        ("2026-11-01", "has no time zone (date only)"),
        ("11/01/2026", "is not a date this format reads"),
        ("soon", "is not a date this format reads"),
    ],
)
def test_timestamp_problems_are_named(raw: str, problem: str) -> None:
    errors = F.RowErrors(1)
    F.timestamps(_arr([raw]), errors, "occurred_at", naive_tz=None)
    assert problem in errors.reason[0]


def test_unknown_currency_is_named_and_codes_are_upper_cased() -> None:
    errors = F.RowErrors(3)
    cur = F.currencies(_arr(["usd", "JPY", "XYZ"]), errors, "currency")
    assert cur.codes.to_pylist() == ["USD", "JPY", "XYZ"]
    assert cur.exponents.tolist() == [2, 0, -1]
    assert errors.reason[2] == "field 'currency': unknown currency 'XYZ' (not an ISO 4217 code)"
