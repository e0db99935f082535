"""Task bodies for the DAG files: resolve settings and windows, call one capability, log counts.

Each returns a small JSON-able dict for XCom (counts and paths, never frames). Airflow objects only
come in as the task context; settings are read through `airflow_adapter`.

Run options (Params `gateway`, `dry_run`; see `airflow_adapter.window_params`):

| task body | one transaction | `gateway` | `dry_run` |
|---|---|---|---|
| `land_settlements` | per window (all its files) | lands only that gateway's folder | rolled back, task Skipped |
| `pull_orders` | per run (all five tables + watermarks) | not applicable (one commerce DB), logged | rolled back, task Skipped |
| `reconcile_from_context` | per window | whole window decided, that gateway's line states logged | rolled back |
| `publish_reconciliation` | writes files | as above | writes nothing, task Skipped |

A dry run's task ends Skipped on purpose: a skipped task emits no asset event, so no downstream DAG
runs on data that was never written. The other DAGs' task bodies (`rule_tasks`, `followup_tasks`,
finance) do not implement `dry_run`: asked for one, `airflow_adapter.windows_from_context` makes them
do nothing and end Skipped (docs/RUNBOOK.md).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from payrecon import airflow_adapter as adapter
from payrecon.ops.schema import upgrade_serialised as upgrade
from payrecon.settings import Settings, Window
from payrecon.warehouse.engine import warehouse

log = logging.getLogger(__name__)


def _emit(context: dict[str, Any], asset: Any, windows: list[Window], **extra: Any) -> None:
    """Record the windows (and counts) on the asset event, so downstream runs know what to do."""
    events = context.get("outlet_events")
    if events is not None and asset is not None:
        events[asset].extra = {**adapter.window_extra(windows), **extra}


def _ingestion_config(gateway: str | None) -> Any:
    """The gateways to land: all of them, or the one a person asked for (checked against the config)."""
    from payrecon.ingestion.config import default_config

    config = default_config()
    if gateway is None:
        return config
    if gateway not in config.gateways:
        raise ValueError(f"unknown gateway {gateway!r}; gateways.yaml has {sorted(config.gateways)}")
    return replace(config, gateways={gateway: config.gateways[gateway]})


def _finish_dry_run(what: str, summary: Any) -> None:
    log.warning("DRY RUN %s: nothing was written (transaction rolled back): %s", what, summary)
    adapter.skip_task(f"dry run of {what}: counts are in the log, nothing was written")


def land_settlements(context: dict[str, Any], asset: Any = None, settings: Settings | None = None) -> dict:
    """Land each window's settlement files, ONE transaction per window: a window lands whole or not at all."""
    from payrecon.ingestion.landing import land_window
    from payrecon.ops.transaction import one_transaction

    settings = settings or adapter.settings_from_airflow()
    windows = adapter.windows_from_context(context, honours_dry_run=True)
    options = adapter.run_options(context)
    config = _ingestion_config(options.gateway)
    reports = []
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        for window in windows:
            with one_transaction(engine, commit=not options.dry_run, label=f"landing {window.label}") as tx:
                report = land_window(tx, settings, window, config).as_dict()
            files = report.pop("files")
            log.info(
                "window %s%s: %d files seen, %d landed, %d skipped (already landed), %d rejected; "
                "lines read %d = loaded %d + quarantined %d",
                window.label, f" gateway {options.gateway}" if options.gateway else "",
                report["files_seen"], report["files_landed"], report["files_skipped"], report["files_rejected"],
                report["lines_read"], report["lines_loaded"], report["lines_quarantined"],
            )
            reports.append({**report, "files": files})
    result = adapter.to_xcom({"windows": [w.label for w in windows], **options.as_dict(), "reports": reports})
    if options.dry_run:
        _finish_dry_run("settlement landing", [{k: v for k, v in r.items() if k != "files"} for r in reports])
    _emit(context, asset, windows)
    return result


def pull_orders(context: dict[str, Any], asset: Any = None, settings: Settings | None = None) -> dict:
    """Pull commerce changes up to the latest window end, one transaction (tables and watermarks)."""
    from payrecon.commerce.pull import pull_incremental
    from payrecon.ops.transaction import one_transaction

    settings = settings or adapter.settings_from_airflow(need_commerce=True)
    windows = adapter.windows_from_context(context, honours_dry_run=True)
    options = adapter.run_options(context)
    if options.gateway:
        log.info("gateway %s ignored: orders come from one commerce database for every gateway", options.gateway)
    until = max(w.end for w in windows)
    with warehouse(settings.warehouse_url) as engine, warehouse(settings.commerce_url) as commerce:
        upgrade(engine)
        with one_transaction(engine, commit=not options.dry_run, label="commerce pull") as tx:
            counts = pull_incremental(commerce, tx, until, settings.pull_overlap)
    log.info(
        "pulled commerce changes up to %s: %d rows upserted (%s)",
        until.isoformat(), sum(counts.values()), ", ".join(f"{k} {v}" for k, v in counts.items()),
    )
    result = adapter.to_xcom({"until": until, "rows": counts, "dry_run": options.dry_run})
    if options.dry_run:
        _finish_dry_run("commerce pull", counts)
    _emit(context, asset, windows)
    return result


def _gateway_line_states(engine: Any, windows: list[Window], gateway: str) -> dict[str, dict[str, int]]:
    from sqlalchemy import text

    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for window in windows:
            rows = conn.execute(
                text(
                    "select r.state, count(*) from reconciliation_results r "
                    "join settlement_lines l on r.item_type = 'settlement_line' and r.item_id = l.line_id "
                    "where r.window_start = :ws and l.gateway = :gw group by r.state order by r.state"
                ),
                {"ws": window.start, "gw": gateway},
            )
            out[window.label] = {state: int(n) for state, n in rows}
    return out


def reconcile_from_context(context: dict[str, Any], settings: Settings | None = None) -> list[dict]:
    """Reconcile each window in its own transaction (all in one rolled-back transaction on a dry run)."""
    from payrecon.ops.transaction import one_transaction
    from payrecon.reconciliation.reconcile import reconcile

    settings = settings or adapter.settings_from_airflow()
    windows = adapter.windows_from_context(context, honours_dry_run=True)
    options = adapter.run_options(context)
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        if options.dry_run:
            with one_transaction(engine, commit=False, label="reconcile") as tx:
                results = reconcile(tx, windows, settings.recon)
                by_gateway = _gateway_line_states(tx, windows, options.gateway) if options.gateway else None
        else:
            results = reconcile(engine, windows, settings.recon)
            by_gateway = _gateway_line_states(engine, windows, options.gateway) if options.gateway else None
    for r in results:
        lines, orders = sum(r.line_states.values()), sum(r.order_states.values())
        log.info(
            "%sreconciled %s: %d settlement lines, %d orders, each with one state; matched lines %d, orders "
            "matched %d, pending %d, without settlement %d",
            "DRY RUN " if options.dry_run else "", r.window.label, lines, orders,
            r.line_states.get("matched", 0), r.order_states.get("matched", 0), r.order_states.get("pending", 0),
            r.order_states.get("order_without_settlement", 0),
        )
    if by_gateway is not None:
        log.info("gateway %s line states by window: %s", options.gateway, by_gateway)
    return adapter.to_xcom(
        [{**r.as_dict(), **options.as_dict(), **({"gateway_line_states": by_gateway[r.window.label]}
                                                 if by_gateway else {})} for r in results]
    )


def publish_reconciliation(
    results: list[dict], context: dict[str, Any], asset: Any = None, settings: Settings | None = None
) -> list[str]:
    from payrecon.reconciliation.outputs import write_window_outputs

    if adapter.run_options(context).dry_run:
        _finish_dry_run("reconciliation", [{k: r[k] for k in ("window_start", "line_states", "order_states")}
                                           for r in results])
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
