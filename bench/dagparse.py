"""Parse time of each DAG file, the way the dag-processor sees it.

    python -m bench.dagparse [--json OUT]

Airflow (and `DagBag`) is imported once; then each file is parsed by `DagBag(dag_folder=file)` in a
process forked from that one (as the dag-processor forks a parser per file), so every file pays its own
imports of the project's modules and no file is helped by another's. A second, warm parse in the same
child shows the cost without first-import work. Target: < 0.3 s per file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import PLUGINS, ROOT

DAGS_DIR = ROOT / "dags"


def _environment() -> None:
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="payrecon-bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PLUGINS)
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


def _parse_in_child(path: Path) -> dict:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: parse, report, leave without running the parent's atexit hooks
        os.close(read)
        try:
            from airflow.dag_processing.dagbag import DagBag

            started = time.perf_counter()
            bag = DagBag(dag_folder=str(path))
            cold = time.perf_counter() - started
            started = time.perf_counter()
            DagBag(dag_folder=str(path))
            warm = time.perf_counter() - started
            out = {"file": path.name, "seconds": round(cold, 3), "warm_seconds": round(warm, 3),
                   "dags": sorted(bag.dag_ids), "errors": {str(k): str(v)[:500] for k, v in bag.import_errors.items()}}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            out = {"file": path.name, "error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(out).encode())
        os.close(write)
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks))


def measure() -> dict:
    _environment()
    started = time.perf_counter()
    import airflow  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag  # noqa: F401

    imported = time.perf_counter() - started
    files = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
    return {"airflow_import_seconds": round(imported, 3), "files": [_parse_in_child(p) for p in files],
            "load": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.ERROR)
    result = measure()
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
