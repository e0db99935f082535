"""Sample bank statements and reference FX rates, derived from generated settlement files.

`python -m payrecon.finance.sample_bank OUT_DIR` after `python -m payrecon.sample_data ... OUT_DIR`:
reads every payout line of `OUT_DIR/inbox/{gateway}/{date}/*.csv` (through the ingestion parsers) and
writes the merchant's bank statements to `OUT_DIR/inbox/bank/{booking date}/` — CAMT.053 XML for the
USD, EUR and GBP accounts, the bank's CSV export for the others — plus reference rates to
`OUT_DIR/inbox/fx/{date}/rates.csv`, and `OUT_DIR/truth/bank.json` listing what was planted:

* each payout is deposited one or two days after it was paid (by a hash of its id, so deterministic);
  Stripe deposits quote the payout id, other gateways only their name;
* `missing`: payouts never deposited (reported as not in the bank once their date window is over);
* `short`: a deposit one minor unit short of its payout (tied, the cent written off as rounding);
* `unclaimed`: a gateway-named deposit no payout explains (bank line without payout);
* rent and payroll debits on the same accounts, which are not gateway deposits at all.
Deposits that would book after the last generated day have not arrived yet and are not written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

from payrecon.ingestion.config import default_config
from payrecon.ingestion.formats import parser_for
from payrecon.ingestion.lines import FileContext
from payrecon.money import from_minor

CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
CAMT_CURRENCIES = ("USD", "EUR", "GBP")
ACCOUNTS = {
    "USD": "US64SVBKUS6S3300958879",
    "EUR": "DE89370400440532013000",
    "GBP": "GB29NWBK60161331926819",
    "JPY": "JP0012345678901234567",
    "KWD": "KW81CBKU0000000000001234560101",
}
COUNTERPARTY = {"stripe": "STRIPE PAYMENTS EUROPE LTD", "acmepay": "ACMEPAY BV"}
# one major unit in USD (as the sample catalogue converts); reference rates drift a little each day
USD_PER_MAJOR = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27"), "JPY": Decimal("0.0067"), "KWD": Decimal("3.25")}


@dataclass
class Payout:
    gateway: str
    payout_id: str
    currency: str
    amount_minor: int  # to the bank: positive a credit
    paid_on: date


@dataclass
class BankLine:
    account: str
    currency: str
    amount_minor: int
    booking_date: date
    counterparty: str
    remittance: str
    bank_ref: str
    end_to_end_id: str | None = None


def _hash(value: str) -> int:
    return int(hashlib.sha256(value.encode()).hexdigest()[:8], 16)


def read_payouts(inbox: Path) -> list[Payout]:
    """Every payout line of the generated settlement files, via the ingestion parsers."""
    gateways = default_config().gateways
    payouts = []
    for gateway, fmt in sorted(gateways.items()):
        for path in sorted((inbox / gateway).glob("*/*.csv")):
            report = date.fromisoformat(path.parent.name)
            parsed = parser_for(fmt)(path.read_bytes(), FileContext(path.name, gateway, report))
            lines = parsed.lines
            for row in lines[lines["line_type"] == "payout"].itertuples():
                if not row.payout_id:
                    continue
                payouts.append(
                    Payout(gateway, str(row.payout_id), str(row.currency), -int(row.net_minor),
                           row.occurred_at.date())
                )
    return sorted(payouts, key=lambda p: (p.paid_on, p.gateway, p.payout_id))


def plan(payouts: list[Payout], first: date, last: date) -> tuple[list[BankLine], dict[str, list[str]]]:
    lines: list[BankLine] = []
    planted: dict[str, list[str]] = {"missing": [], "short": [], "unclaimed": [], "not_arrived": []}
    # the planted cases: chosen by hash, not by position, so they fall on different days and gateways
    def booked_on(p: Payout) -> date:
        return p.paid_on + timedelta(days=1 + _hash(p.payout_id) % 2)

    by_hash = sorted(payouts, key=lambda p: _hash(p.payout_id))
    missing = {p.payout_id for p in by_hash[:1]}
    arriving = [p for p in by_hash[1:] if booked_on(p) <= last and p.amount_minor > 100]
    short = {p.payout_id for p in arriving[:1]}
    for p in payouts:
        booked = booked_on(p)
        if p.payout_id in missing:
            planted["missing"].append(p.payout_id)
            continue
        if booked > last:
            planted["not_arrived"].append(p.payout_id)
            continue
        amount = p.amount_minor - (1 if p.payout_id in short else 0)
        if p.payout_id in short:
            planted["short"].append(p.payout_id)
        remittance = f"{p.gateway.upper()} PAYOUT {p.payout_id}" if p.gateway == "stripe" else f"{p.gateway.upper()} SETTLEMENT"
        lines.append(
            BankLine(ACCOUNTS.get(p.currency, ACCOUNTS["USD"]), p.currency, amount, booked,
                     COUNTERPARTY.get(p.gateway, p.gateway.upper()), remittance,
                     f"BNK{_hash(p.payout_id):010d}", p.payout_id if p.gateway == "stripe" else None)
        )
    if payouts:
        day = min(first + timedelta(days=2), last)
        lines.append(BankLine(ACCOUNTS["USD"], "USD", 12345, day, COUNTERPARTY["acmepay"], "ACMEPAY SETTLEMENT",
                              "BNK-UNCLAIMED-1"))
        planted["unclaimed"].append("BNK-UNCLAIMED-1")
    d = first
    while d <= last:
        if d.day % 2 == 1:
            lines.append(BankLine(ACCOUNTS["USD"], "USD", -250000, d, "OFFICE LANDLORD GMBH", "RENT", f"BNK-RENT-{d:%m%d}"))
        if d.weekday() == 4:
            lines.append(BankLine(ACCOUNTS["EUR"], "EUR", -1200000, d, "PAYROLL", "SALARIES", f"BNK-PAY-{d:%m%d}"))
        d += timedelta(days=1)
    return lines, planted


def _major(minor: int, currency: str) -> str:
    return str(abs(from_minor(minor, currency)))


def camt053(account: str, currency: str, day: date, lines: list[BankLine], opening: int) -> bytes:
    """One CAMT.053 statement of one account and booking day, with opening and closing balances."""
    ET.register_namespace("", CAMT_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{CAMT_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    def amount(parent: ET.Element, minor: int) -> None:
        el(parent, "Amt", _major(minor, currency), Ccy=currency)
        el(parent, "CdtDbtInd", "CRDT" if minor >= 0 else "DBIT")

    def balance(parent: ET.Element, code: str, minor: int) -> None:
        bal = el(parent, "Bal")
        el(el(el(bal, "Tp"), "CdOrPrtry"), "Cd", code)
        amount(bal, minor)
        el(el(bal, "Dt"), "Dt", day.isoformat())

    doc = ET.Element(f"{{{CAMT_NS}}}Document")
    root = el(doc, "BkToCstmrStmt")
    hdr = el(root, "GrpHdr")
    el(hdr, "MsgId", f"STMT-{account[-6:]}-{day:%Y%m%d}")
    el(hdr, "CreDtTm", f"{day.isoformat()}T23:59:00Z")
    stmt = el(root, "Stmt")
    el(stmt, "Id", f"{account[-6:]}-{day:%Y%m%d}")
    el(stmt, "CreDtTm", f"{day.isoformat()}T23:59:00Z")
    acct = el(stmt, "Acct")
    el(el(acct, "Id"), "IBAN", account)
    el(acct, "Ccy", currency)
    balance(stmt, "OPBD", opening)
    balance(stmt, "CLBD", opening + sum(x.amount_minor for x in lines))
    for x in lines:
        entry = el(stmt, "Ntry")
        amount(entry, x.amount_minor)
        el(el(entry, "Sts"), "Cd", "BOOK")
        el(el(entry, "BookgDt"), "Dt", x.booking_date.isoformat())
        el(el(entry, "ValDt"), "Dt", x.booking_date.isoformat())
        el(entry, "AcctSvcrRef", x.bank_ref)
        tx = el(el(entry, "NtryDtls"), "TxDtls")
        el(el(tx, "Refs"), "EndToEndId", x.end_to_end_id or "NOTPROVIDED")
        party = el(el(tx, "RltdPties"), "Dbtr" if x.amount_minor >= 0 else "Cdtr")
        el(party, "Nm", x.counterparty)
        el(el(tx, "RmtInf"), "Ustrd", x.remittance)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(doc, encoding="utf-8")


def bank_csv(lines: list[BankLine]) -> bytes:
    header = "account,booking_date,value_date,amount,currency,counterparty,remittance_info,end_to_end_id,bank_ref"
    rows = [header]
    for x in lines:
        sign = "-" if x.amount_minor < 0 else ""
        rows.append(",".join([x.account, x.booking_date.isoformat(), x.booking_date.isoformat(),
                              sign + _major(x.amount_minor, x.currency), x.currency, x.counterparty, x.remittance,
                              x.end_to_end_id or "", x.bank_ref]))
    return ("\n".join(rows) + "\n").encode()


def write_statements(out: Path, lines: list[BankLine]) -> list[Path]:
    by_day: dict[tuple[date, str], list[BankLine]] = defaultdict(list)
    for x in lines:
        by_day[(x.booking_date, x.currency)].append(x)
    written, balances = [], defaultdict(int)
    for (day, currency), day_lines in sorted(by_day.items()):
        folder = out / "inbox" / "bank" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        day_lines.sort(key=lambda x: x.bank_ref)
        account = day_lines[0].account
        if currency in CAMT_CURRENCIES:
            path = folder / f"camt053_{currency.lower()}.xml"
            path.write_bytes(camt053(account, currency, day, day_lines, balances[account]))
        else:
            path = folder / f"statement_{currency.lower()}.csv"
            path.write_bytes(bank_csv(day_lines))
        balances[account] += sum(x.amount_minor for x in day_lines)
        written.append(path)
    return written


def write_rates(out: Path, first: date, last: date) -> list[Path]:
    written = []
    d = first
    while d <= last:
        drift = Decimal(1) + Decimal((d.toordinal() % 5) - 2) / Decimal(1000)
        folder = out / "inbox" / "fx" / d.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        rows = ["rate_date,base_currency,quote_currency,rate"]
        for base, usd in sorted(USD_PER_MAJOR.items()):
            rows.append(f"{d.isoformat()},{base},USD,{(usd * drift).quantize(Decimal('0.000001'))}")
        path = folder / "rates.csv"
        path.write_text("\n".join(rows) + "\n")
        written.append(path)
        d += timedelta(days=1)
    return written


def generate_bank(out: Path) -> dict[str, list[str]]:
    """Write bank statements and reference rates for the scenario in `out`; returns what was planted."""
    out = Path(out)
    days = sorted(date.fromisoformat(p.name) for g in default_config().gateways
                  for p in (out / "inbox" / g).glob("*") if p.is_dir())
    if not days:
        raise FileNotFoundError(f"no settlement files under {out / 'inbox'}: generate the sample merchant first")
    first, last = days[0], days[-1]
    lines, planted = plan(read_payouts(out / "inbox"), first, last)
    write_statements(out, lines)
    write_rates(out, first, last)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "truth" / "bank.json").write_text(json.dumps(planted, indent=2, sort_keys=True) + "\n")
    return planted


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m payrecon.finance.sample_bank", description=__doc__)
    parser.add_argument("out", type=Path, help="the folder a sample merchant was generated into")
    args = parser.parse_args(argv)
    planted = generate_bank(args.out)
    print(json.dumps({k: len(v) for k, v in planted.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
