"""DAG integrity: every file imports, fast, with the house defaults, and parsing touches no connection."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag(monkeypatch_module):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="module")
def monkeypatch_module():
    """Parsing must never look up a connection or variable (Airflow's own example-DAG test does the same)."""
    from airflow.sdk import Connection, Variable

    mp = pytest.MonkeyPatch()

    def refuse(*args, **kwargs):
        raise AssertionError(f"DAG parsing looked up configuration: {args!r}")

    mp.setattr(Connection, "get", classmethod(lambda cls, *a, **k: refuse(*a)))
    mp.setattr(Variable, "get", staticmethod(refuse))
    yield mp
    mp.undo()


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) >= len(DAG_FILES)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_each_file_parses_fast(path: Path, dagbag) -> None:
    from airflow.dag_processing.dagbag import DagBag

    start = time.perf_counter()
    bag = DagBag(dag_folder=str(path))
    elapsed = time.perf_counter() - start
    assert bag.import_errors == {}
    assert elapsed < 0.5, f"{path.name} took {elapsed:.2f}s to parse"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_file_name_is_dag_id(path: Path, dagbag) -> None:
    assert path.stem in dagbag.dags


def test_house_defaults(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.catchup is False, f"{dag_id} must set catchup=False"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_daily_windows_are_24_hours(dagbag) -> None:
    """`@daily` gives zero-length intervals in Airflow 3; the timetable must give whole days."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    for dag_id in ("settlements_ingest", "orders_ingest"):
        timetable = coerce_to_core_timetable(dagbag.dags[dag_id].timetable)
        start = pendulum.datetime(2026, 11, 1, tz="UTC")
        info = timetable.next_dagrun_info(
            last_automated_data_interval=DataInterval(start - timedelta(days=1), start),
            restriction=TimeRestriction(earliest=start, latest=None, catchup=True),
        )
        interval = info.data_interval
        assert interval.end - interval.start == timedelta(days=1), dag_id
        assert interval.start == start
