"""Benchmark scenarios: generated once by the project's generator, cached by size and seed.

A cached scenario is a folder `gen-o{orders}-d{days}-s{seed}-{commerce}` under the cache dir holding
what `python -m payrecon.sample_data` writes (commerce DB, `inbox/`, `truth/`), `bench-meta.json` (the
generator's summary and how long it took) and `parquet/` (orders and payment attempts exported from the
commerce DB once, for the bare DuckDB reference join). `bench-meta.json` is written last: a folder
without it is regenerated.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench import PLUGINS, ROOT

META = "bench-meta.json"
EXPORT_TABLES = {
    "orders": "order_id, customer_id, status, cast(total as text) as total, currency, created_at, updated_at",
    "payment_attempts": (
        "attempt_id, order_id, attempt_no, attempted_at, status, gateway, gateway_charge_id, "
        "cast(amount as text) as amount, currency, updated_at"
    ),
}


@dataclass(frozen=True)
class Scenario:
    folder: Path
    orders_per_day: int
    days: int
    seed: int
    commerce: str
    meta: dict
    reused: bool

    @property
    def commerce_url(self) -> str:
        return self.meta["summary"]["commerce_url"]

    @property
    def start(self) -> date:
        return date.fromisoformat(self.meta["summary"]["start"])

    @property
    def grace_days(self) -> int:
        return int(self.meta["summary"]["grace_days"])

    def day(self, index: int) -> str:
        return (self.start + timedelta(days=index)).isoformat()

    @property
    def measured_day(self) -> str:
        """The window the benchmark measures: the last generated day."""
        return self.day(self.days - 1)

    @property
    def generation_seconds(self) -> float:
        return float(self.meta["generation_seconds"])

    @property
    def export_seconds(self) -> float:
        return float(self.meta["export_seconds"])

    def parquet(self, table: str) -> Path:
        return self.folder / "parquet" / f"{table}.parquet"

    def settlement_files(self, day: str) -> list[Path]:
        return sorted((self.folder / "inbox").glob(f"*/{day}/*.csv"))


def scenario_dir(cache: Path, orders: int, days: int, seed: int, commerce: str) -> Path:
    return cache / f"gen-o{orders}-d{days}-s{seed}-{commerce}"


def prepare(cache: Path, orders: int, days: int, seed: int, commerce: str = "sqlite", log=print) -> Scenario:
    """The cached scenario, generated (in a child process, timed) and exported when missing."""
    folder = scenario_dir(Path(cache), orders, days, seed, commerce)
    meta_path = folder / META
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return Scenario(folder, orders, days, seed, commerce, meta, reused=True)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    cmd = [sys.executable, "-m", "payrecon.sample_data", "--out", str(folder), "--days", str(days),
           "--orders-per-day", str(orders), "--seed", str(seed), "--json"]
    if commerce == "duckdb":
        cmd += ["--commerce-url", f"duckdb:///{folder / 'commerce.duckdb'}"]
    elif commerce != "sqlite":
        raise ValueError(f"commerce source must be sqlite or duckdb, not {commerce!r}")
    log(f"generating {orders:,} orders/day x {days} day(s), seed {seed}, {commerce} commerce DB -> {folder}")
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    generation = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"generator failed ({done.returncode}):\n{done.stderr[-3000:]}")
    summary = json.loads(done.stdout)
    started = time.perf_counter()
    export_parquet(summary["commerce_url"], folder / "parquet")
    export = time.perf_counter() - started
    meta = {"summary": summary, "generation_seconds": round(generation, 2), "export_seconds": round(export, 2)}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return Scenario(folder, orders, days, seed, commerce, meta, reused=False)


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGINS), str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    return env


def export_parquet(commerce_url: str, out: Path) -> None:
    """Orders and payment attempts of the commerce DB as parquet (money as decimal text, times as text)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    if commerce_url.startswith("duckdb:"):
        import duckdb

        con = duckdb.connect(commerce_url.split("///", 1)[1], read_only=True)
        try:
            for table, cols in EXPORT_TABLES.items():
                con.execute(f"copy (select {cols} from {table}) to '{out / table}.parquet' (format parquet)")
        finally:
            con.close()
        return
    path = commerce_url.split("///", 1)[1]
    con = sqlite3.connect(path)
    try:
        for table, cols in EXPORT_TABLES.items():
            cur = con.execute(f"select {cols} from {table}")  # noqa: S608 - fixed names
            names = [d[0] for d in cur.description]
            writer = None
            while rows := cur.fetchmany(200_000):
                columns = list(zip(*rows, strict=True))
                batch = pa.table({n: pa.array(c) for n, c in zip(names, columns, strict=True)})
                if writer is None:
                    writer = pq.ParquetWriter(out / f"{table}.parquet", batch.schema)
                writer.write_table(batch.cast(writer.schema))
            if writer is not None:
                writer.close()
    finally:
        con.close()
