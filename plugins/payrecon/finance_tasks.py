"""Task bodies of the finance DAGs (payout_match, resolve_exception, month_close).

Each resolves settings and windows through `airflow_adapter`, calls the finance package, and returns a
small JSON-able dict for XCom (counts and paths, never frames).
"""

from __future__ import annotations

import logging
from typing import Any

from payrecon import airflow_adapter as adapter
from payrecon.settings import Settings, Window
from payrecon.warehouse.engine import warehouse
from payrecon.warehouse.migrate import upgrade

log = logging.getLogger(__name__)


class MonthNotClosed(RuntimeError):
    """Items of the month are neither final nor explained; the close pack lists them."""


def apply_resolution_workbooks(context: dict[str, Any], settings: Settings | None = None) -> dict:
    """Record and apply every exceptions workbook dropped in `{inbox}/resolutions/` since the last run."""
    from payrecon.finance.resolutions import intake_folder

    settings = settings or adapter.settings_from_airflow()
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        reports = intake_folder(engine, settings)
    fresh = [r for r in reports if r.status != "skipped"]
    return adapter.to_xcom({
        "workbooks": len(fresh),
        "applied": sum(len(r.applied) for r in fresh),
        "rejected": [x for r in fresh for x in r.rejected],
    })


def match_windows(context: dict[str, Any], settings: Settings | None = None, config: Any = None) -> list[dict]:
    """Land bank statements and rates, then payouts, bank, matches, fees, FX and exceptions per window."""
    from payrecon.finance.run import run_finance

    settings = settings or adapter.settings_from_airflow()
    config = config or adapter.finance_config_from_airflow()
    windows = adapter.windows_from_context(context)
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        results = run_finance(engine, settings, windows, config)
    return adapter.to_xcom([r.as_dict() for r in results])


def publish_finance(results: list[dict], context: dict[str, Any], asset: Any = None,
                    settings: Settings | None = None) -> list[str]:
    """Per window: the open-exceptions workbook and the payouts of the window, for finance."""
    from payrecon.finance.outputs import write_window_outputs

    settings = settings or adapter.settings_from_airflow()
    windows = [Window.parse(r["window_start"], r["window_end"]) for r in results]
    paths: list[str] = []
    with warehouse(settings.warehouse_url) as engine:
        for window in windows:
            paths.extend(str(p) for p in write_window_outputs(engine, window, settings.output_dir))
    events = context.get("outlet_events")
    if events is not None and asset is not None and windows:
        events[asset].extra = adapter.window_extra(windows)
    log.info("published %d finance files for %d windows", len(paths), len(windows))
    return paths


def resolve_from_context(context: dict[str, Any], settings: Settings | None = None) -> dict:
    """The form's decision, recorded in the audit log and applied; with no exception id, the inbox workbooks."""
    from payrecon.finance.resolutions import Decision, ResolutionError, record

    params = context.get("params") or {}
    if not params.get("exception_id"):
        return apply_resolution_workbooks(context, settings)
    settings = settings or adapter.settings_from_airflow()
    decision = Decision(
        exception_id=str(params["exception_id"]).strip(),
        action=str(params.get("action") or ""),
        actor=str(params.get("resolved_by") or ""),
        note=params.get("note"),
        amount=params.get("write_off_amount"),
        owner=params.get("new_owner"),
    )
    run_id = context.get("run_id") or "manual"
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        ids, rejected = record(engine, [decision], "form", f"resolve_exception/{run_id}")
    if rejected:
        raise ResolutionError(f"{decision.exception_id}: {rejected[0]['reason']}")
    return adapter.to_xcom({"exception_id": decision.exception_id, "resolution_id": ids[0]})


def close_month_from_context(context: dict[str, Any], settings: Settings | None = None) -> dict:
    from payrecon.finance.month_close import close_month

    settings = settings or adapter.settings_from_airflow()
    month = adapter.month_from_context(context)
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        result = close_month(engine, month, settings.output_dir)
    return adapter.to_xcom(result.as_dict())


def assert_closed(result: dict, context: dict[str, Any]) -> dict:
    params = context.get("params") or {}
    if result["status"] != "closed" and params.get("fail_when_blocked", True):
        raise MonthNotClosed(
            f"month {result['month']} is not closed: {result['blocking']} items blocking "
            f"{result['blocking_by_reason']}, days not processed {result['missing_windows']}; "
            f"see {result['pack_dir']}/blocking_items.csv and resolve them in exceptions.xlsx"
        )
    return result
