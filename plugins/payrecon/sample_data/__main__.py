"""CLI: python -m payrecon.sample_data --out DIR --start 2026-11-01 --days 5 --orders-per-day 200 --seed 7"""

from __future__ import annotations

import argparse
import json
import sys

from payrecon.sample_data.generator import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m payrecon.sample_data", description=__doc__)
    parser.add_argument("--out", required=True, help="output folder (inbox/, truth/, commerce.sqlite)")
    parser.add_argument("--start", default="2026-11-01", help="first UTC day, YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--orders-per-day", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--commerce-url", default=None, help="SQLAlchemy URL (default sqlite:///{out}/commerce.sqlite)")
    parser.add_argument("--grace-days", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    summary = generate(args.out, args.start, args.days, args.orders_per_day, args.seed, args.commerce_url,
                       args.grace_days)
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
