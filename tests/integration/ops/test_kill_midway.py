"""A task killed halfway through a window leaves no partial window; a re-run completes it exactly.

A subprocess runs the real task body (`payrecon.tasks`) and is SIGKILLed in the middle of its
transaction: landing, after one file of the window is written and the next file's lines are on their
way; reconciling, after the lines' states are written and before the orders'. Right after the kill
every warehouse table is exactly as before (checksums, wall-clock columns included). The re-run then
leaves the warehouse equal to one built without any kill (checksums without the wall-clock columns,
which record when a file was landed). On the embedded default and on PostgreSQL.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import pytest
import sqlalchemy as sa
from opskit import killable, pg_database, windows

from payrecon.ops.checksum import differences, table_checksums
from payrecon.settings import Settings, Window


def _checksums(url: str, ignore_wall_clock: bool = False) -> dict:
    from payrecon.warehouse.engine import warehouse

    with warehouse(url) as engine:
        return table_checksums(engine, ignore_wall_clock=ignore_wall_clock)


def _window_rows(url: str, window: Window) -> dict[str, int]:
    from payrecon.warehouse.engine import warehouse

    queries = {
        "settlement_lines": "select count(*) from settlement_lines where window_start = :ws",
        "landed_files": "select count(*) from landed_files where report_date = :day",
        "reconciliation_results": "select count(*) from reconciliation_results where window_start = :ws",
    }
    with warehouse(url) as engine, engine.connect() as conn:
        return {
            name: int(conn.execute(sa.text(q), {"ws": window.start, "day": window.start.date()}).scalar())
            for name, q in queries.items()
        }


def _context(window: Window) -> dict:
    return {"params": window.as_dict()}


def _prepare(settings: Settings, first: Window, second: Window) -> None:
    """The first window landed and reconciled, the orders of both pulled: the state before the kills."""
    from payrecon.tasks import land_settlements, pull_orders, reconcile_from_context

    land_settlements(_context(first), settings=settings)
    pull_orders(_context(second), settings=settings)
    reconcile_from_context(_context(first), settings=settings)


@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killed_landing_and_reconcile_leave_no_partial_window(
    backend: str, tmp_path: Path, scenario: Path, request: pytest.FixtureRequest
) -> None:
    from payrecon.tasks import land_settlements, reconcile_from_context

    first, second = windows()[:2]
    inbox = scenario / "inbox"
    assert len(list(inbox.glob(f"*/{second.label}/*"))) >= 2, "the killed window needs two files or more"
    if backend == "duckdb":
        url, reference = f"duckdb:///{tmp_path / 'killed.duckdb'}", nullcontext(f"duckdb:///{tmp_path / 'ref.duckdb'}")
    else:
        url, reference = request.getfixturevalue("pg_url"), pg_database()
    commerce = f"sqlite:///{scenario / 'commerce.sqlite'}"
    settings = Settings(warehouse_url=url, commerce_url=commerce, inbox_dir=inbox, output_dir=tmp_path / "out")
    _prepare(settings, first, second)

    before = _checksums(url)
    killable("landing", url, inbox, second, tmp_path)
    assert differences(before, _checksums(url)) == [], "a killed landing left part of its window behind"
    assert _window_rows(url, second) == {"settlement_lines": 0, "landed_files": 0, "reconciliation_results": 0}
    land_settlements(_context(second), settings=settings)
    landed = _window_rows(url, second)
    assert landed["settlement_lines"] > 0 and landed["landed_files"] >= 2

    before = _checksums(url)
    killable("reconcile", url, inbox, second, tmp_path)
    assert differences(before, _checksums(url)) == [], "a killed reconcile left part of its window behind"
    reconcile_from_context(_context(second), settings=settings)
    assert _window_rows(url, second)["reconciliation_results"] > 0

    with reference as ref_url:  # the same work, never killed
        ref = Settings(warehouse_url=ref_url, commerce_url=commerce, inbox_dir=inbox, output_dir=tmp_path / "ref")
        _prepare(ref, first, second)
        land_settlements(_context(second), settings=ref)
        reconcile_from_context(_context(second), settings=ref)
        expected = _checksums(ref_url, ignore_wall_clock=True)
    assert differences(expected, _checksums(url, ignore_wall_clock=True)) == []
