"""Task bodies for the DAG files: resolve settings and windows, call one capability, log counts.

Each returns a small JSON-able dict for XCom (counts and paths, never frames). Airflow objects only
come in as the task context; settings are read through `airflow_adapter`.
"""

from __future__ import annotations

import logging
from typing import Any

from payrecon import airflow_adapter as adapter
from payrecon.settings import Settings, Window
from payrecon.warehouse.engine import warehouse
from payrecon.warehouse.migrate import upgrade

log = logging.getLogger(__name__)


def _emit(context: dict[str, Any], asset: Any, windows: list[Window], **extra: Any) -> None:
    """Record the windows (and counts) on the asset event, so downstream runs know what to do."""
    events = context.get("outlet_events")
    if events is not None and asset is not None:
        events[asset].extra = {**adapter.window_extra(windows), **extra}


def land_settlements(context: dict[str, Any], asset: Any = None, settings: Settings | None = None) -> dict:
    from payrecon.ingestion.landing import land_window

    settings = settings or adapter.settings_from_airflow()
    windows = adapter.windows_from_context(context)
    reports = []
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        for window in windows:
            report = land_window(engine, settings, window)
            log.info("window %s: %s", window.label, report.as_dict())
            reports.append(report.as_dict())
    _emit(context, asset, windows)
    return adapter.to_xcom({"windows": [w.label for w in windows], "reports": reports})


def pull_orders(context: dict[str, Any], asset: Any = None, settings: Settings | None = None) -> dict:
    from payrecon.commerce.pull import pull_incremental

    settings = settings or adapter.settings_from_airflow(need_commerce=True)
    windows = adapter.windows_from_context(context)
    until = max(w.end for w in windows)
    with warehouse(settings.warehouse_url) as engine, warehouse(settings.commerce_url) as commerce:
        upgrade(engine)
        counts = pull_incremental(commerce, engine, until, settings.pull_overlap)
    log.info("pulled commerce changes up to %s: %s", until.isoformat(), counts)
    _emit(context, asset, windows)
    return adapter.to_xcom({"until": until, "rows": counts})


def reconcile_from_context(context: dict[str, Any], settings: Settings | None = None) -> list[dict]:
    from payrecon.reconciliation.reconcile import reconcile

    settings = settings or adapter.settings_from_airflow()
    windows = adapter.windows_from_context(context)
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        results = reconcile(engine, windows, settings.recon)
    return adapter.to_xcom([r.as_dict() for r in results])


def publish_reconciliation(
    results: list[dict], context: dict[str, Any], asset: Any = None, settings: Settings | None = None
) -> list[str]:
    from payrecon.reconciliation.outputs import write_window_outputs

    settings = settings or adapter.settings_from_airflow()
    windows = [Window.parse(r["window_start"], r["window_end"]) for r in results]
    paths = []
    with warehouse(settings.warehouse_url) as engine:
        for window in windows:
            paths.extend(str(p) for p in write_window_outputs(engine, window, settings.output_dir))
    if windows:
        _emit(context, asset, windows)
    log.info("published %d files for %d windows", len(paths), len(windows))
    return paths
