"""Run one task body with a pause injected in the middle of its transaction; the test SIGKILLs it there.

    python killable_task.py landing|reconcile WAREHOUSE_URL INBOX_DIR WINDOW_START WINDOW_END READY_FILE

`landing`: pauses right after the second bulk insert of the window (one file written, the next one's
lines on their way). `reconcile`: pauses after the settlement-line states are written, before the
orders'. At the pause it writes READY_FILE and sleeps until killed. No production code has a hook:
the pause is patched in here, around the very functions the task body calls.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]


def _pause(ready: Path) -> None:
    ready.write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def main(argv: list[str]) -> int:
    phase, url, inbox, start, end, ready_path = argv
    ready = Path(ready_path)
    from payrecon.settings import Settings

    settings = Settings(warehouse_url=url, inbox_dir=Path(inbox), output_dir=ready.parent / "output")
    context = {"params": {"window_start": start, "window_end": end}}
    if phase == "landing":
        import payrecon.ingestion.landing as landing

        real_insert = landing.insert_frame
        calls = {"n": 0}

        def insert_then_pause(conn, table, frame):  # noqa: ANN001, ANN202
            written = real_insert(conn, table, frame)
            calls["n"] += 1
            if calls["n"] >= 2:
                _pause(ready)
            return written

        landing.insert_frame = insert_then_pause
        from payrecon.tasks import land_settlements

        land_settlements(context, settings=settings)
    elif phase == "reconcile":
        import payrecon.warehouse.sql as sql

        real_run = sql.run

        def run_then_pause(conn, name, **params):  # noqa: ANN001, ANN003, ANN202
            touched = real_run(conn, name, **params)
            if name == "marts/reconciliation_lines":
                _pause(ready)
            return touched

        sql.run = run_then_pause
        from payrecon.tasks import reconcile_from_context

        reconcile_from_context(context, settings=settings)
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    raise SystemExit("the task finished without reaching its pause point")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
