"""The pipeline benchmark: every stage of one daily window, on DuckDB and PostgreSQL, at two scales.

    .venv/bin/python -m bench.run --orders 1000000 --backends duckdb,postgres --scales 100000,1000000 \\
        --out bench/results/

See bench/README.md for what is measured and how to read it. Each (scale, backend) runs in its own child
process (`bench.pipeline`) so peak RSS is that run's alone; the DuckDB reference join (`bench.reference`)
and the DAG parse timing (`bench.dagparse`) run in their own child processes too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import PLUGINS, ROOT
from bench.data import Scenario, prepare
from bench.pipeline import PG_ADMIN_URL, STAGE_TITLES, STAGES

TARGETS = {
    "total_seconds": {"duckdb": 30.0, "postgres": 45.0},
    "peak_rss_mb": 1024.0,
    "reconcile_vs_bare_join": 3.0,
    "growth": 11.0,
    "dag_parse_seconds": 0.3,
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(PLUGINS), env.get("PYTHONPATH", "")) if p)
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    env.setdefault("TQDM_DISABLE", "1")
    return env


def _child(module: str, args: list[str], log_path: Path) -> int:
    with open(log_path, "w") as log:
        return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=_env(), stdout=log,
                              stderr=subprocess.STDOUT, check=False).returncode


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _versions(backends: list[str]) -> dict[str, str]:
    import duckdb

    out = {"python": platform.python_version(), "duckdb": duckdb.__version__, "cpus": str(os.cpu_count())}
    try:
        import psutil

        out["memory_gb"] = f"{psutil.virtual_memory().total / 2**30:.1f}"
    except Exception:  # noqa: BLE001 - informative only
        pass
    if "postgres" in backends:
        try:
            import sqlalchemy as sa

            eng = sa.create_engine(PG_ADMIN_URL)
            with eng.connect() as conn:
                out["postgresql"] = conn.exec_driver_sql("show server_version").scalar()
            eng.dispose()
        except Exception as exc:  # noqa: BLE001 - the run will fail loudly later
            out["postgresql"] = f"unreachable ({type(exc).__name__})"
    return out


# --- running ----------------------------------------------------------------------------------------------

def run_scale(sc: Scenario, backends: list[str], work: Path, logs: Path, profile: Path | None, check: bool,
              stage_timeout: float | None = None, log=print, reuse: bool = False, one_process: bool = False) -> dict:
    day = sc.measured_day
    out: dict = {"orders_per_day": sc.orders_per_day, "days": sc.days, "window": day,
                 "scenario": {"folder": str(sc.folder), "reused": sc.reused,
                              "generation_seconds": sc.generation_seconds, "export_seconds": sc.export_seconds,
                              "table_counts": sc.meta["summary"]["table_counts"]},
                 "backends": {}}
    ref_json = work / f"reference-{sc.orders_per_day}.json"
    if reuse and ref_json.is_file() and ref_json.stat().st_size:
        out["reference"] = json.loads(ref_json.read_text())
    else:
        log(f"  reference join (DuckDB in memory, CSV + parquet) for {day} ...")
        with open(ref_json, "w") as fh:
            code = subprocess.run([sys.executable, "-m", "bench.reference", str(sc.folder), day, str(sc.grace_days)],
                                  cwd=ROOT, env=_env(), stdout=fh, stderr=subprocess.DEVNULL, check=False).returncode
        out["reference"] = json.loads(ref_json.read_text()) if code == 0 else {"error": f"exit {code}"}
    for backend in backends:
        tag = f"{backend}-{sc.orders_per_day}"
        run_work = work / tag
        shutil.rmtree(run_work, ignore_errors=True)
        result_json = work / f"{tag}.json"
        args = ["--scenario", str(sc.folder), "--backend", backend, "--work", str(run_work), "--json", str(result_json)]
        if profile is not None:
            args += ["--profile", str(profile)]
        if not check:
            args.append("--no-check")
        if stage_timeout:
            args += ["--stage-timeout", str(stage_timeout)]
        if one_process:
            args.append("--one-process")
        if reuse and result_json.is_file():
            result = json.loads(result_json.read_text())
            if result.get("partial") and "error" not in result:
                result["error"] = "interrupted (partial result: the stages it finished)"
            out["backends"][backend] = result
            log(f"  {backend}: reused {result_json}")
            continue
        log(f"  {backend}: every stage, {sc.days - 1} warm-up day(s) then window {day} (load {_load()}) ...")
        started = time.perf_counter()
        code = _child("bench.pipeline", args, logs / f"{tag}.log")
        result = json.loads(result_json.read_text()) if result_json.is_file() else {"error": f"exit {code}, no result"}
        if code != 0 and "error" not in result:
            result["error"] = f"exit {code}"
        result["child_seconds"] = round(time.perf_counter() - started, 1)
        if "error" in result:
            log(f"  {backend}: FAILED: {result['error']} (log: {logs / f'{tag}.log'})")
        else:
            log(f"  {backend}: {result['total_seconds']:.1f} s, peak {result['peak_rss_mb']:.0f} MB")
        shutil.rmtree(run_work, ignore_errors=True)
        out["backends"][backend] = result
    return out


def dag_parse(work: Path, logs: Path, reuse: bool = False) -> dict:
    path = work / "dagparse.json"
    if reuse and path.is_file():
        return json.loads(path.read_text())
    code = _child("bench.dagparse", ["--json", str(path)], logs / "dagparse.log")
    return json.loads(path.read_text()) if code == 0 and path.is_file() else {"error": f"exit {code}"}


# --- reporting --------------------------------------------------------------------------------------------

def _stage(result: dict, name: str) -> dict | None:
    for s in result.get("stages", []):
        if s["stage"] == name:
            return s
    return None


def _fmt(value: float | None, spec: str = "7.2f", none: str = "-") -> str:
    return format(value, spec) if value is not None else none.rjust(len(format(0, spec)))


def evaluate(report: dict) -> list[dict]:
    """Every target, per backend and scale where it applies: met or not, with the figure."""
    checks = []
    headline = report["runs"].get(str(report["orders"]))
    if headline:
        for backend, r in headline["backends"].items():
            if "error" in r:
                checks.append({"target": f"end to end {backend}", "met": False, "figure": r["error"]})
                continue
            limit = TARGETS["total_seconds"][backend]
            lower = " (lower bound: " + ", ".join(r["timed_out"]) + " timed out)" if r.get("timed_out") else ""
            checks.append({"target": f"end to end, {backend}, {report['orders']:,} orders (<= {limit:.0f} s)",
                           "met": r["total_seconds"] <= limit and not lower,
                           "figure": f"{r['total_seconds']:.1f} s{lower}"})
            where = ("largest task process" if r.get("task_processes")
                     else f"one process; incl. warm-up: {r['process_peak_rss_mb']:.0f} MB")
            checks.append({"target": f"peak RSS, {backend} (<= {TARGETS['peak_rss_mb']:.0f} MB)",
                           "met": r["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
                           "figure": f"{r['peak_rss_mb']:.0f} MB ({where})"})
            rec, bare = _stage(r, "reconcile")["seconds"], r["bare_join"]["join_seconds"]
            ratio = rec / bare if bare else float("inf")
            checks.append({"target": f"reconcile vs bare join on {backend} (<= 3x)", "met": ratio <= 3.0,
                           "figure": f"{ratio:.1f}x ({rec:.2f} s vs {bare:.2f} s)"})
    growth = report.get("growth")
    if growth:
        for backend, g in growth["backends"].items():
            checks.append({"target": f"growth {growth['from']:,} -> {growth['to']:,}, {backend} "
                                     f"(<= {TARGETS['growth'] * growth['factor'] / 10:.1f}x)",
                           "met": g["total"] <= TARGETS["growth"] * growth["factor"] / 10,
                           "figure": f"{g['total']:.1f}x time for {growth['factor']:.0f}x rows"})
    parse = report.get("dag_parse", {})
    for f in parse.get("files", []):
        secs = f.get("seconds")
        checks.append({"target": f"DAG parse {f['file']} (< 0.3 s)",
                       "met": secs is not None and secs < TARGETS["dag_parse_seconds"] and not f.get("errors"),
                       "figure": f"{secs:.3f} s" if secs is not None else f.get("error", "?")})
    return checks


def growth_of(runs: dict, backends: list[str]) -> dict | None:
    sizes = sorted(int(k) for k in runs)
    if len(sizes) < 2:
        return None
    lo, hi = runs[str(sizes[0])], runs[str(sizes[-1])]
    out = {"from": sizes[0], "to": sizes[-1], "factor": sizes[-1] / sizes[0], "backends": {}}
    for backend in backends:
        a, b = lo["backends"].get(backend, {}), hi["backends"].get(backend, {})
        if "total_seconds" not in a or "total_seconds" not in b:
            continue
        per = {}
        for name in STAGES:
            sa_, sb = _stage(a, name), _stage(b, name)
            per[name] = round(sb["seconds"] / sa_["seconds"], 2) if sa_ and sb and sa_["seconds"] else None
        out["backends"][backend] = {
            "stages": per, "total": round(b["total_seconds"] / a["total_seconds"], 2),
            "lines": round(b["rows"]["window_lines"] / max(a["rows"]["window_lines"], 1), 2),
            "orders": round(b["rows"]["window_orders"] / max(a["rows"]["window_orders"], 1), 2),
        }
    return out


def render(report: dict) -> str:
    """The plain-text report (also the body of the markdown file, in a code block per section)."""
    out: list[str] = []
    env = report["environment"]
    out.append(f"payrecon benchmark, {report['started_at']} (UTC)")
    out.append("  " + ", ".join(f"{k} {v}" for k, v in env.items()))
    out.append(f"  load average at start {report['load_start']}, at end {report['load_end']} (1, 5, 15 min; "
               f"{env.get('cpus')} cores: other work on the machine makes wall times noisy)")
    out.append(f"  command: {report['command']}")
    for size, run in sorted(report["runs"].items(), key=lambda kv: int(kv[0])):
        backends = list(run["backends"])
        sc = run["scenario"]
        out.append("")
        first_ok = next((r for r in run["backends"].values() if "rows" in r), None)
        rows = first_ok["rows"] if first_ok else {}
        out.append(f"== {int(size):,} orders/day, measured window {run['window']}: "
                   f"{rows.get('window_orders', 0):,} orders, {rows.get('window_lines', 0):,} settlement lines "
                   f"(warehouse: {rows.get('warehouse_orders', 0):,} orders, {rows.get('warehouse_lines', 0):,} lines) ==")
        out.append(f"  scenario {'reused from cache' if sc['reused'] else 'generated'}: generation "
                   f"{sc['generation_seconds']:.1f} s + parquet export {sc['export_seconds']:.1f} s (not in totals)")
        head = f"  {'stage':<34}" + "".join(f" | {b:^31}" for b in backends)
        out.append(head)
        out.append(f"  {'':<34}" + "".join(f" | {'wall s':>7} {'cpu s':>7} {'peak MB':>7} {'load':>5}" for _ in backends))
        out.append("  " + "-" * (len(head) - 2))
        for name in STAGES:
            line = f"  {STAGE_TITLES[name]:<34}"
            for b in backends:
                s = _stage(run["backends"][b], name)
                wall = f">{s['seconds']:6.0f}" if s and s.get("timed_out") else (f"{s['seconds']:7.2f}" if s else "")
                line += (f" | {wall} {s['cpu_seconds']:7.2f} {s['peak_rss_mb']:7.0f} "
                         f"{s['load_before'][0]:5.1f}") if s else f" | {'failed':>31}"
            out.append(line)
        out.append("  " + "-" * (len(head) - 2))
        line = f"  {'TOTAL (pipeline)':<34}"
        for b in backends:
            r = run["backends"][b]
            total = (f">{r['total_seconds']:6.0f}" if r.get("timed_out") else f"{r['total_seconds']:7.2f}") \
                if "total_seconds" in r else ""
            line += (f" | {total} {r['total_cpu_seconds']:7.2f} {r['peak_rss_mb']:7.0f} {'':>5}"
                     if "total_seconds" in r else f" | {r.get('error', 'failed')[:31]:>31}")
        out.append(line)
        extras = [
            ("target (end to end, peak)", lambda b, r: f"<= {TARGETS['total_seconds'][b]:.0f} s, <= 1024 MB"),
            ("setup: imports+migrate (not in total)", lambda b, r: f"{r['setup']['seconds']:.2f} s "
             f"(GX {r['setup']['imports_seconds'].get('great_expectations context', 0) + r['setup']['imports_seconds'].get('payrecon.validation.settlement_lines', 0):.1f} s)"),
            ("task start-up: imports (not in total)", lambda b, r: (
                f"{sum(s.get('startup_seconds', 0) for s in r['stages']):.2f} s over {len(r['stages'])} processes"
                if r.get("task_processes") else "one process (--one-process)")),
            ("warm-up day(s) (not in total)", lambda b, r: ", ".join(f"{w['window']} {w['seconds']:.1f} s"
                                                                    for w in r["warmup"]) or "none"),
            ("peak RSS, the run's own process", lambda b, r: f"{r['process_peak_rss_mb']:.0f} MB "
             f"(kernel max {r['kernel_peak_rss_mb']:.0f} MB)"),
            ("bare join, same engine", lambda b, r: f"{r['bare_join']['join_seconds']:.2f} s "
             f"({r['bare_join']['rows']:,} rows)"),
            ("reconcile / bare join (<= 3x)", lambda b, r: f"{_stage(r, 'reconcile')['seconds'] / r['bare_join']['join_seconds']:.1f}x"),
            ("reconcile / DuckDB reference join", lambda b, r, ref=run["reference"]: (
                f"{_stage(r, 'reconcile')['seconds'] / ref['join_seconds']:.1f}x"
                if ref.get("join_seconds") else "-")),
            ("ground truth agreement", lambda b, r: (
                f"lines {r['truth']['lines']['percent']:.3f}%, orders {r['truth']['orders']['percent']:.3f}%"
                if "truth" in r else "not checked")),
        ]
        for title, fn in extras:
            line = f"  {title:<34}"
            for b in backends:
                r = run["backends"][b]
                try:
                    cell = fn(b, r) if "error" not in r else "-"
                except (KeyError, TypeError, ZeroDivisionError):
                    cell = "-"
                line += f" | {cell:>31}"
            out.append(line)
        for b in backends:
            for st in run["backends"][b].get("stages", []):
                if st.get("timed_out"):
                    out.append(f"  {b}: {STAGE_TITLES[st['stage']]} {st['timed_out']} (its time is a lower bound)")
            for w in run["backends"][b].get("warmup", []):
                for st in w["stages"]:
                    if st.get("timed_out"):
                        out.append(f"  {b}: warm-up {w['window']} {STAGE_TITLES[st['stage']]} {st['timed_out']}")
        ref = run["reference"]
        if "join_seconds" in ref:
            out.append(f"  reference join, DuckDB in memory from the files: read {ref['read_seconds']:.2f} s "
                       f"({ref['lines']:,} lines from {len(ref['files'])} CSV files, {ref['charges']:,} charges from "
                       f"parquet), one classifying full join {ref['join_seconds']:.2f} s")
        else:
            out.append(f"  reference join failed: {ref.get('error')}")
    growth = report.get("growth")
    if growth:
        out.append("")
        out.append(f"== growth {growth['from']:,} -> {growth['to']:,} orders/day ({growth['factor']:.0f}x; "
                   f"target: time <= {TARGETS['growth'] * growth['factor'] / 10:.1f}x) ==")
        backends = list(growth["backends"])
        out.append(f"  {'stage':<34}" + "".join(f" | {b:>10}" for b in backends))
        for name in STAGES:
            out.append(f"  {STAGE_TITLES[name]:<34}" + "".join(
                f" | {_fmt(growth['backends'][b]['stages'][name], '9.1f')}x" for b in backends))
        out.append(f"  {'TOTAL':<34}" + "".join(f" | {growth['backends'][b]['total']:9.1f}x" for b in backends))
        out.append(f"  {'(rows: window lines / orders)':<34}" + "".join(
            f" | {growth['backends'][b]['lines']:4.1f}x/{growth['backends'][b]['orders']:4.1f}x" for b in backends))
    parse = report.get("dag_parse")
    if parse:
        out.append("")
        if "files" in parse:
            out.append(f"== DAG parse: DagBag per file, forked after `import airflow` ({parse['airflow_import_seconds']:.2f} s); "
                       f"target < 0.3 s; load {parse['load']} ==")
            for f in parse["files"]:
                if "error" in f:
                    out.append(f"  {f['file']:<28} FAILED {f['error']}")
                    continue
                errs = f" IMPORT ERRORS {list(f['errors'].values())}" if f["errors"] else ""
                out.append(f"  {f['file']:<28} {f['seconds']:6.3f} s  (warm re-parse {f['warm_seconds']:.3f} s)  "
                           f"{', '.join(f['dags'])}{errs}")
        else:
            out.append(f"== DAG parse failed: {parse.get('error')} ==")
    out.append("")
    out.append("== targets ==")
    for c in report["targets"]:
        out.append(f"  [{'met' if c['met'] else 'NOT MET':>7}] {c['target']}: {c['figure']}")
    return "\n".join(out)


def markdown(report: dict) -> str:
    lines = [f"# Benchmark {report['started_at']}", "", f"`{report['command']}`", "",
             "| target | met | figure |", "|---|---|---|"]
    lines += [f"| {c['target']} | {'yes' if c['met'] else '**no**'} | {c['figure']} |" for c in report["targets"]]
    for size, run in sorted(report["runs"].items(), key=lambda kv: int(kv[0])):
        backends = [b for b in run["backends"] if "total_seconds" in run["backends"][b]]
        lines += ["", f"## {int(size):,} orders/day, window {run['window']}", "",
                  "| stage | " + " | ".join(f"{b} wall s | {b} cpu s | {b} peak MB | load" for b in backends) + " |",
                  "|---|" + "---|---|---|---|" * len(backends)]
        for name in STAGES:
            cells = []
            for b in backends:
                s = _stage(run["backends"][b], name)
                cells.append(f"{s['seconds']:.2f} | {s['cpu_seconds']:.2f} | {s['peak_rss_mb']:.0f} | "
                             f"{s['load_before'][0]:.1f}")
            lines.append(f"| {STAGE_TITLES[name]} | " + " | ".join(cells) + " |")
        lines.append("| **total** | " + " | ".join(
            f"**{run['backends'][b]['total_seconds']:.2f}** | {run['backends'][b]['total_cpu_seconds']:.2f} | "
            f"{run['backends'][b]['peak_rss_mb']:.0f} | " for b in backends) + " |")
        lines.append("| bare join, same engine | " + " | ".join(
            f"{run['backends'][b]['bare_join']['join_seconds']:.2f} | | | " for b in backends) + " |")
    lines += ["", "## Full report", "", "```", render(report), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000, help="orders per day of the headline run")
    ap.add_argument("--backends", default="duckdb,postgres", help="comma list of duckdb, postgres")
    ap.add_argument("--scales", default="100000,1000000",
                    help="comma list of orders/day to compare for growth (the headline size is always run)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"), help="where JSON and markdown go")
    ap.add_argument("--cache", default=str(ROOT / "bench" / ".cache"), help="generated scenarios (git-ignored)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--days", type=int, default=2,
                    help="days generated; the last one is measured after the earlier ones ran (default 2: the "
                         "measured day then carries yesterday's T+1 settlements, ~1 line per order)")
    ap.add_argument("--commerce", default="sqlite", choices=["sqlite", "duckdb"], help="commerce DB kind")
    ap.add_argument("--no-dag-parse", action="store_true", help="skip the DAG parse timing")
    ap.add_argument("--no-check", action="store_true", help="skip the ground-truth check after each run")
    ap.add_argument("--stage-timeout", type=float, default=None,
                    help="cancel a stage after this many seconds (reported as timed out, a lower bound) so a stage "
                         "that does not scale cannot stall the run")
    ap.add_argument("--keep-work", action="store_true", help="keep the per-run JSON files (work dir in the cache)")
    ap.add_argument("--reuse-work", default=None, metavar="DIR",
                    help="a kept (or interrupted) run's work dir: runs whose JSON is there are not run again, an "
                         "interrupted one is reported with the stages it finished")
    ap.add_argument("--one-process", action="store_true",
                    help="run a window's stages in one process (default: one process per stage, as Airflow's tasks)")
    ap.add_argument("--profile", action="store_true",
                    help="pyinstrument profile of every measured stage under OUT/profiles/ (slows the run)")
    args = ap.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sizes = sorted({int(s) for s in args.scales.split(",") if s.strip()} | {args.orders})
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = Path(args.reuse_work) if args.reuse_work else Path(args.cache) / f"work-{stamp}"
    logs = out_dir / "logs"
    for d in (work, logs):
        d.mkdir(parents=True, exist_ok=True)
    profile = out_dir / "profiles" if args.profile else None

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    report: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "orders": args.orders, "sizes": sizes, "backends": backends, "days": args.days, "seed": args.seed,
        "commerce": args.commerce, "load_start": _load(), "environment": _versions(backends), "runs": {},
    }
    try:
        scenarios = {}
        for size in sizes:
            started = time.perf_counter()
            scenarios[size] = prepare(Path(args.cache), size, args.days, args.seed, args.commerce, log=log)
            log(f"scenario {size:,}: {'reused' if scenarios[size].reused else 'generated'} "
                f"({time.perf_counter() - started:.1f} s)")
        if not args.no_dag_parse:
            log("DAG parse timing ...")
            report["dag_parse"] = dag_parse(work, logs, reuse=bool(args.reuse_work))
        for size in sizes:
            log(f"{size:,} orders/day:")
            report["runs"][str(size)] = run_scale(scenarios[size], backends, work, logs, profile,
                                                  not args.no_check, args.stage_timeout, log=log,
                                                  reuse=bool(args.reuse_work), one_process=args.one_process)
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    report["load_end"] = _load()
    report["growth"] = growth_of(report["runs"], backends)
    report["targets"] = evaluate(report)
    text = render(report)
    print(text)
    (out_dir / f"bench-{stamp}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (out_dir / f"bench-{stamp}.md").write_text(markdown(report))
    shutil.copyfile(out_dir / f"bench-{stamp}.json", out_dir / "latest.json")
    shutil.copyfile(out_dir / f"bench-{stamp}.md", out_dir / "latest.md")
    log(f"written: {out_dir / f'bench-{stamp}.json'}, {out_dir / f'bench-{stamp}.md'} (and latest.*)")
    failed = any("error" in r for run in report["runs"].values() for r in run["backends"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
