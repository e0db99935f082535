"""The benchmark harness keeps working: `python -m bench.run` end to end at a tiny size, DuckDB only.

No timing is asserted (the machine is shared); only that every stage ran, was measured and reported.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.pipeline import STAGES


def test_bench_runs_every_stage_at_a_tiny_size(tmp_path: Path, capsys) -> None:
    from bench.data import prepare
    from bench.run import growth_of, main

    out, cache = tmp_path / "results", tmp_path / "cache"
    code = main(["--orders", "1000", "--scales", "1000", "--backends", "duckdb", "--days", "2",
                 "--out", str(out), "--cache", str(cache)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "TOTAL (pipeline)" in printed and "== targets ==" in printed
    assert (out / "latest.md").read_text().startswith("# Benchmark")

    report = json.loads((out / "latest.json").read_text())
    assert set(report["runs"]) == {"1000"}
    run = report["runs"]["1000"]["backends"]["duckdb"]
    assert [s["stage"] for s in run["stages"]] == list(STAGES)
    for stage in run["stages"]:
        assert stage["seconds"] > 0 and stage["peak_rss_mb"] > 0 and len(stage["load_before"]) == 3
    # as Airflow runs tasks: every measured stage in a process of its own, its imports timed apart
    assert run["task_processes"] is True
    for stage in run["stages"]:
        assert stage["startup_seconds"] > 0 and stage["process_seconds"] > stage["seconds"]
    assert "task start-up: imports" in printed
    assert [w["window"] for w in run["warmup"]] == ["2026-11-01"] and run["window"] == "2026-11-02"
    assert run["rows"]["window_orders"] > 0 and run["rows"]["window_lines"] > 0
    assert run["bare_join"]["rows"] > 0
    assert run["truth"]["lines"]["checked"] > 0 and run["truth"]["orders"]["percent"] > 99
    assert report["runs"]["1000"]["reference"]["lines"] == run["rows"]["window_lines"]
    parsed = {f["file"]: f for f in report["dag_parse"]["files"]}
    assert "reconcile.py" in parsed and parsed["reconcile.py"]["dags"] == ["reconcile"]
    assert any(t["target"].startswith("end to end, duckdb") for t in report["targets"])

    # growth compares the smallest and the largest scale, stage by stage
    runs = {"100": report["runs"]["1000"], "1000": report["runs"]["1000"]}
    growth = growth_of(runs, ["duckdb"])
    assert growth["factor"] == 10 and growth["backends"]["duckdb"]["total"] == 1.0

    # the scenario is cached by size, days, seed and commerce kind: asking again reuses it
    assert prepare(cache, 1000, 2, 7, "sqlite").reused is True
