"""Great Expectations 1.x, called directly: one ephemeral context per process, suites as Python objects.

GX is heavy (~2.5 s, ~260 MB to import), so nothing here imports it at module level: `gx()` does, once,
with analytics off and progress bars silenced. `run_suite` validates a whole frame as one batch and
turns the result into row problems (by frame position) and table problems.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

_lock = threading.Lock()


@cache
def gx() -> Any:
    """The `great_expectations` module, imported on first use with analytics and progress bars off."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations

    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return great_expectations


@cache
def context() -> Any:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx().get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


@cache
def _batch_definition() -> Any:
    """One pandas data source / dataframe asset / whole-frame batch definition, reused for every run."""
    source = context().data_sources.add_or_update_pandas(name="payrecon_frames")
    asset = source.add_dataframe_asset(name="frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def expectations() -> Any:
    """`great_expectations.expectations`, for building suites."""
    gx()
    import great_expectations.expectations as gxe

    return gxe


@dataclass
class RowProblem:
    expectation: str
    field: str | None
    describe: str


@dataclass
class SuiteOutcome:
    """What a suite found: row problems by frame position, and table-level failures (named)."""

    suite: str
    success: bool
    rows: dict[int, list[RowProblem]] = field(default_factory=dict)
    table_failures: list[str] = field(default_factory=list)
    evaluated: int = 0

    @property
    def bad_positions(self) -> np.ndarray:
        return np.array(sorted(self.rows), dtype=np.int64)

    def reason(self, position: int) -> tuple[str | None, str]:
        problems = self.rows[position]
        fld = problems[0].field
        text = "; ".join(f"failed expectation {p.expectation} ({p.describe})" for p in problems)
        return fld, text


def run_suite(frame: pd.DataFrame, suite: Any) -> SuiteOutcome:
    """Validate `frame` (one batch) against `suite`; row-level failures come back by position."""
    frame = frame.reset_index(drop=True)
    outcome = SuiteOutcome(suite=suite.name, success=True, evaluated=len(suite.expectations))
    if frame.empty:
        return outcome
    with _lock:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    outcome.success = bool(result.success)
    for res in result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        meta = cfg.meta or {}
        name = cfg.type
        describe = meta.get("describe") or ", ".join(f"{k}={v}" for k, v in cfg.kwargs.items() if k != "batch_id")
        if res.exception_info and res.exception_info.get("raised_exception"):
            outcome.table_failures.append(f"{name} could not run: {res.exception_info.get('exception_message')}")
            continue
        index_list = (res.result or {}).get("unexpected_index_list")
        if meta.get("row_level", True) and index_list is not None:
            for pos in index_list:
                p = int(pos["index"] if isinstance(pos, dict) and "index" in pos else pos)
                outcome.rows.setdefault(p, []).append(RowProblem(name, meta.get("field"), describe))
        else:
            observed = (res.result or {}).get("observed_value")
            outcome.table_failures.append(f"{name} ({describe}): observed {observed!r}")
    return outcome
