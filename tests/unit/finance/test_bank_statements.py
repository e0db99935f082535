"""Bank statements: CAMT.053 and the CSV export parse to exact minor units; a bad statement is refused whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from payrecon.finance.bank_statements import BadStatement, parse_camt053, parse_csv, parse_statement

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bank"


def test_camt053_booked_entries_with_sign_party_and_reference() -> None:
    fmt, lines = parse_statement((FIXTURES / "camt053_good.xml").read_bytes(), "camt053_good.xml")
    assert fmt == "camt053"
    assert len(lines) == 2  # the pending (PDNG) entry is not on the account yet
    credit, debit = lines
    assert credit["account_id"] == "DE89370400440532013000"
    assert (credit["amount_minor"], credit["currency"], credit["booking_date"]) == (176782, "EUR", date(2026, 11, 3))
    assert credit["counterparty"] == "STRIPE PAYMENTS EUROPE LTD"
    assert credit["end_to_end_id"] == "po_fbhUgULru972R7WaxZnF"
    assert "po_fbhUgULru972R7WaxZnF" in credit["remittance_info"]
    assert (debit["amount_minor"], debit["counterparty"], debit["value_date"]) == (-50000, "OFFICE LANDLORD GMBH", None)


def test_camt053_whose_balances_do_not_tie_is_refused() -> None:
    with pytest.raises(BadStatement, match="opening balance 100000 .* != closing balance 226783"):
        parse_camt053((FIXTURES / "camt053_balances_do_not_tie.xml").read_bytes())


def test_camt053_refuses_entity_expansion() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>'
    with pytest.raises(BadStatement, match="not well-formed XML"):
        parse_camt053(bomb)


def test_csv_export_in_minor_units_of_each_currency() -> None:
    fmt, lines = parse_statement((FIXTURES / "statement_good.csv").read_bytes(), "statement_good.csv")
    assert fmt == "csv"
    assert [(x["amount_minor"], x["currency"]) for x in lines] == [(74647, "JPY"), (-1200, "JPY")]
    assert lines[0]["end_to_end_id"] == "po_3WDdw6kyKCgmQARjtAm8"


def test_csv_amount_with_more_decimals_than_the_currency_is_refused() -> None:
    with pytest.raises(BadStatement, match="line 2 amount: 746.47 has more decimals than JPY allows"):
        parse_csv((FIXTURES / "statement_bad_amount.csv").read_bytes())


def test_csv_missing_required_column_is_named() -> None:
    with pytest.raises(BadStatement, match="missing required column"):
        parse_csv(b"account,amount\nX,1.00\n")
