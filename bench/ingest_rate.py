"""Settlement ingestion throughput: generate N lines per format, print lines/s per format.

    PYTHONPATH=plugins .venv/bin/python bench/ingest_rate.py --lines 1000000
    PYTHONPATH=plugins .venv/bin/python bench/ingest_rate.py --lines 200000 --formats stripe generic --land

Stages timed per format (wall clock): `parse` (decode, CSV read, typed columns, row checks), `parse+GX`
(plus the Great Expectations settlement suite on the whole batch), and with `--land` the full
`land_bytes` on a fresh embedded DuckDB warehouse (parse + validate + one transaction writing lines,
quarantine and manifest). `per CPU-second` is parse+GX lines per second of process CPU time (all
threads): the figure to compare when the machine is shared and wall clock is noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

REPORT = date(2026, 11, 1)
T0 = 1793527200  # 2026-11-01T08:00:00Z


def _ids(prefix: str, n: int, width: int = 14) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width))


def _money(minor: np.ndarray, exp: int = 2) -> np.ndarray:
    sign = np.where(minor < 0, "-", "")
    a = np.abs(minor)
    if exp == 0:
        return np.char.add(sign, a.astype(str))
    whole = (a // 10**exp).astype(str)
    frac = np.char.zfill((a % 10**exp).astype(str), exp)
    return np.char.add(np.char.add(np.char.add(sign, whole), "."), frac)


def _times(n: int, sep: str = "T", suffix: str = "Z") -> np.ndarray:
    secs = T0 + (np.arange(n) * 43200 // max(n, 1))
    stamps = np.datetime_as_string(secs.astype("datetime64[s]"), unit="s")
    if sep != "T":
        stamps = np.char.replace(stamps, "T", sep)
    return np.char.add(stamps, suffix)


def _csv(header: list[str], columns: list[np.ndarray]) -> bytes:
    rows = columns[0].astype(object)
    for col in columns[1:]:
        rows = rows + "," + col.astype(object)
    return (",".join(header) + "\n" + "\n".join(rows.tolist()) + "\n").encode()


def _amounts(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gross = rng.integers(100, 500_000, n)
    fee = gross * 29 // 1000 + 30
    return gross, fee, gross - fee


def generic(n: int, rng: np.random.Generator) -> bytes:
    gross, fee, net = _amounts(n, rng)
    kind = np.where(np.arange(n) % 20 == 0, "refund", "charge")
    sign = np.where(kind == "refund", -1, 1)
    return _csv(
        ["transaction_id", "type", "charge_id", "order_id", "occurred_at", "currency", "gross", "fee", "net",
         "presentment_amount", "presentment_currency", "payout_id"],
        [_ids("sg_", n), kind, _ids("chg_", n), _ids("", n, 8), _times(n), np.full(n, "USD"),
         _money(sign * gross), _money(fee), _money(sign * gross - fee), np.full(n, ""), np.full(n, ""),
         np.full(n, "pay_1")],
    )


def stripe(n: int, rng: np.random.Generator) -> bytes:
    gross, fee, net = _amounts(n, rng)
    return _csv(
        ["balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee", "net",
         "reporting_category", "source_id", "description", "customer_facing_amount", "customer_facing_currency",
         "automatic_payout_id", "charge_id", "payment_intent_id", "order_id"],
        [_ids("txn_", n, 24), _times(n, " ", ""), _times(n, " ", ""), np.full(n, "eur"), _money(gross), _money(fee),
         _money(net), np.full(n, "charge"), _ids("ch_", n, 24), np.full(n, '"Payment for order, thanks"'),
         _money(gross), np.full(n, "eur"), np.full(n, "po_1"), _ids("ch_", n, 24), _ids("pi_", n, 24),
         _ids("", n, 8)],
    )


def adyen(n: int, rng: np.random.Generator) -> bytes:
    gross = rng.integers(100, 5_000, n)  # small, so the batch payout stays within the absurd-amount bound
    fee = gross * 29 // 1000 + 30
    net = gross - fee
    header = ["Company Account", "Merchant Account", "Psp Reference", "Merchant Reference", "Payment Method",
              "Creation Date", "TimeZone", "Type", "Modification Reference", "Gross Currency", "Gross Debit (GC)",
              "Gross Credit (GC)", "Exchange Rate", "Net Currency", "Net Debit (NC)", "Net Credit (NC)",
              "Commission (NC)", "Markup (NC)", "Scheme Fees (NC)", "Interchange (NC)", "Batch Number"]
    body = _csv(header, [np.full(n, "Acme"), np.full(n, "AcmeEU"), _ids("88", n, 14), _ids("", n, 8),
                         np.full(n, "visa"), _times(n, " ", ""), np.full(n, "CET"), np.full(n, "Settled"),
                         _ids("99", n, 14), np.full(n, "EUR"), np.full(n, ""), _money(gross), np.full(n, "1"),
                         np.full(n, "EUR"), np.full(n, ""), _money(net), _money(fee), np.full(n, "0.00"),
                         np.full(n, "0.00"), np.full(n, "0.00"), np.full(n, "7")])
    payout = f"Acme,AcmeEU,,,,2026-11-01 23:59:00,CET,MerchantPayout,,,,,,EUR,{_money(np.array([net.sum()]))[0]},,,,,,7\n"
    return body + payout.encode()


def braintree(n: int, rng: np.random.Generator) -> bytes:
    gross, fee, net = _amounts(n, rng)
    return _csv(
        ["Merchant Account ID", "Transaction ID", "Transaction Type", "Order ID", "Refunded Transaction ID",
         "Settlement Date", "Disbursement Date", "Settlement Currency", "Settlement Amount", "Presentment Currency",
         "Presentment Amount", "Card Brand", "Braintree Total Amount"],
        [np.full(n, "acmeUSD"), _ids("bt", n, 10), np.full(n, "sale"), _ids("", n, 8), np.full(n, ""),
         np.full(n, "2026-11-01"), np.full(n, "2026-11-03"), np.full(n, "USD"), _money(gross), np.full(n, "USD"),
         _money(gross), np.full(n, "Visa"), _money(fee)],
    )


def paypal_stl(n: int, rng: np.random.Generator) -> bytes:
    gross, fee, net = _amounts(n, rng)
    ch = ('"CH","Transaction ID","Invoice ID","PayPal Reference ID","PayPal Reference ID Type",'
          '"Transaction Event Code","Transaction Initiation Date","Transaction Completion Date",'
          '"Transaction Debit or Credit","Gross Transaction Amount","Gross Transaction Currency",'
          '"Fee Debit or Credit","Fee Amount","Fee Currency"')
    stamp = '"2026/11/01 09:00:00 -0700"'
    cols = [np.full(n, '"SB"'), np.char.add(np.char.add('"', _ids("PP", n, 15)), '"'), np.full(n, '""'),
            np.full(n, '""'), np.full(n, '""'), np.full(n, '"T0006"'), np.full(n, stamp), np.full(n, stamp),
            np.full(n, '"CR"'), gross.astype(str), np.full(n, '"USD"'), np.full(n, '"DR"'), fee.astype(str),
            np.full(n, '"USD"')]
    rows = cols[0].astype(object)
    for c in cols[1:]:
        rows = rows + "," + c.astype(object)
    totals = f'"USD",{int(gross.sum())},0,0,{int(fee.sum())}'
    text = "\n".join([
        '"RH",2026/11/02 04:00:00 -0800,"A","M1",009', '"FH",01',
        '"SH",2026/11/01 00:00:00 -0700,2026/11/01 23:59:59 -0800,"M1",""', ch, *rows.tolist(),
        f'"SF",{totals}', f'"SC",{n}', f'"RF",{totals}', f'"RC",{n}', f'"FF",{n + 10}',
    ]) + "\n"
    return text.encode()


GENERATORS = {"generic": generic, "stripe": stripe, "adyen": adyen, "paypal_stl": paypal_stl, "braintree": braintree}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--formats", nargs="*", default=list(GENERATORS))
    ap.add_argument("--land", action="store_true", help="also time land_bytes into an embedded DuckDB warehouse")
    args = ap.parse_args(argv)

    from payrecon.ingestion.formats import parser_for
    from payrecon.ingestion.landing import _with_ids, land_bytes
    from payrecon.ingestion.lines import FileContext
    from payrecon.validation.gx_runtime import gx

    gx()  # the one-off import cost is not a per-file cost
    rng = np.random.default_rng(7)
    print(f"{'format':<11} {'lines':>9} {'MB':>7} {'parse l/s':>11} {'parse+GX l/s':>13} {'per CPU-second':>15}"
          + (f" {'land l/s':>10}" if args.land else ""))
    for fmt in args.formats:
        data = GENERATORS[fmt](args.lines, rng)
        ctx = FileContext(f"bench.{fmt}.csv", "bench", REPORT)
        start, cpu0 = time.perf_counter(), time.process_time()
        parsed = parser_for(fmt)(data, ctx)
        t_parse = time.perf_counter() - start
        assert not parsed.bad, parsed.bad[:3]
        import pandas as pd

        from payrecon.validation.settlement_lines import validate_lines

        lines = _with_ids(parsed.lines, "0" * 64, "bench", pd.Timestamp(REPORT, tz="UTC").to_pydatetime())
        start = time.perf_counter()
        outcome = validate_lines(lines, REPORT)
        t_gx = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        assert outcome.success, outcome.table_failures or list(outcome.rows.items())[:3]
        n = parsed.lines_read
        row = (
            f"{fmt:<11} {n:>9,} {len(data) / 1e6:>7.1f} {n / t_parse:>11,.0f} {n / (t_parse + t_gx):>13,.0f}"
            f" {n / cpu:>15,.0f}"
        )
        if args.land:
            from payrecon.warehouse.engine import make_engine
            from payrecon.warehouse.migrate import upgrade

            with tempfile.TemporaryDirectory() as tmp:
                engine = make_engine(f"duckdb:///{tmp}/bench.duckdb")
                upgrade(engine)
                start = time.perf_counter()
                rep = land_bytes(engine, data, file_name=ctx.file_name, gateway="bench", fmt=fmt, report_date=REPORT)
                t_land = time.perf_counter() - start
                engine.dispose()
            assert rep.lines_loaded == n, rep
            row += f" {n / t_land:>10,.0f}"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
