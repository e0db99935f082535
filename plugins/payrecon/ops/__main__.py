"""`python -m payrecon.ops`: operations on the warehouse (see docs/RUNBOOK.md).

    python -m payrecon.ops checksum            [--warehouse URL] [--json]
    python -m payrecon.ops release-quarantine  [--warehouse URL] [--inbox DIR] [--file-id F] [--gateway G]
                                               [--report-date D] [--line N ...] [--dry-run]
    python -m payrecon.ops replay-file         [--warehouse URL] [--inbox DIR] --file-id F [--path FILE] [--dry-run]

The warehouse URL defaults to $PAYRECON_WAREHOUSE_URL, the inbox to $AIRFLOW_VAR_PAYRECON_INBOX_DIR
(the same Variable the DAGs read), so inside an Airflow container no option is needed but the file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from payrecon.settings import DEFAULT_DATA_DIR, Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m payrecon.ops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--warehouse", default=os.environ.get("PAYRECON_WAREHOUSE_URL"),
                       help="SQLAlchemy URL of the warehouse (default $PAYRECON_WAREHOUSE_URL)")
        p.add_argument("--inbox", type=Path,
                       default=Path(os.environ.get("AIRFLOW_VAR_PAYRECON_INBOX_DIR", DEFAULT_DATA_DIR / "inbox")))

    p = sub.add_parser("checksum", help="checksum of every warehouse table (re-runs must not change it)")
    common(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--ignore-wall-clock", action="store_true", help="to compare two warehouses")

    p = sub.add_parser("release-quarantine", help="load quarantined lines the current code now accepts")
    common(p)
    p.add_argument("--file-id")
    p.add_argument("--gateway")
    p.add_argument("--report-date", type=date.fromisoformat)
    p.add_argument("--line", type=int, action="append", dest="lines", help="only these line numbers")
    p.add_argument("--dry-run", action="store_true", help="count, then roll back")

    p = sub.add_parser("replay-file", help="forget a landed file and land it again (or a corrected one)")
    common(p)
    p.add_argument("--file-id", required=True)
    p.add_argument("--path", type=Path, help="a corrected file to land instead of the original")
    p.add_argument("--dry-run", action="store_true", help="count, then roll back")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not args.warehouse:
        print("no warehouse: give --warehouse URL or set PAYRECON_WAREHOUSE_URL", file=sys.stderr)
        return 2
    from payrecon.warehouse.engine import warehouse

    settings = Settings(warehouse_url=args.warehouse, inbox_dir=args.inbox)
    with warehouse(args.warehouse) as engine:
        if args.command == "checksum":
            from payrecon.ops.checksum import table_checksums

            sums = table_checksums(engine, ignore_wall_clock=args.ignore_wall_clock)
            if args.json:
                print(json.dumps({t: c.as_dict() for t, c in sums.items()}, indent=2))
            else:
                for table, c in sums.items():
                    print(f"{table:<28} {c.rows:>9}  {c.sha256}")
            return 0
        if args.command == "release-quarantine":
            from payrecon.ops.quarantine import release_quarantine

            report = release_quarantine(
                engine, settings, file_id=args.file_id, gateway=args.gateway, report_date=args.report_date,
                line_nos=set(args.lines) if args.lines else None, dry_run=args.dry_run,
            )
            print(json.dumps(report.as_dict(), indent=2, default=str))
            if report.windows and not args.dry_run:
                print(_reconcile_hint(report.windows), file=sys.stderr)
            return 0
        if args.command == "replay-file":
            from payrecon.ops.quarantine import replay_file

            result = replay_file(engine, settings, args.file_id, path=args.path, dry_run=args.dry_run)
            print(json.dumps(result, indent=2, default=str))
            if not args.dry_run:
                print(_reconcile_hint(result["reconcile_windows"]), file=sys.stderr)
            return 0
    return 2


def _reconcile_hint(days: list[str]) -> str:
    first, last = min(days), max(days)
    end = date.fromordinal(date.fromisoformat(last).toordinal() + 1).isoformat()
    return (
        "now reconcile those windows again, e.g.\n"
        f"  airflow dags trigger reconcile -c '{{\"window_start\": \"{first}T00:00:00+00:00\", "
        f"\"window_end\": \"{end}T00:00:00+00:00\"}}'"
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
