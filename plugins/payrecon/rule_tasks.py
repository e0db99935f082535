"""Task bodies of the `order_rules` DAG: resolve settings and windows, run one capability, log counts.

Kept apart from `tasks.py` so the rules and linking capability can change without touching the
foundation's tasks. Each returns a small JSON-able dict for XCom (counts, never frames).
"""

from __future__ import annotations

import logging
from typing import Any

from payrecon import airflow_adapter as adapter
from payrecon.settings import Settings, Window
from payrecon.warehouse.engine import warehouse
from payrecon.warehouse.migrate import upgrade

log = logging.getLogger(__name__)


def decide_rules(context: dict[str, Any], settings: Settings | None = None, rules: Any = None) -> dict:
    """R1-R7 for each window of the run, oldest first; the run id goes to `decision_runs` only."""
    from payrecon.rules.decide import decide

    settings = settings or adapter.settings_from_airflow()
    rules = rules or adapter.rule_settings_from_airflow()
    windows = adapter.windows_from_context(context)
    run_id = str(context.get("run_id") or "manual")
    with warehouse(settings.warehouse_url) as engine:
        upgrade(engine)
        results = decide(engine, windows, rules, run_id)
    return adapter.to_xcom({"windows": [w.as_dict() for w in windows], "results": [r.as_dict() for r in results]})


def link_purchases(
    decided: dict, context: dict[str, Any], asset: Any = None, settings: Settings | None = None, linking: Any = None
) -> dict:
    """R8 over the linking horizon ending at the latest window, then announce the windows downstream."""
    from payrecon.linking.link import link

    settings = settings or adapter.settings_from_airflow()
    linking = linking or adapter.link_settings_from_airflow()
    windows = [Window.parse(w["window_start"], w["window_end"]) for w in decided["windows"]]
    with warehouse(settings.warehouse_url) as engine:
        result = link(engine, windows, linking)
    events = context.get("outlet_events")
    if events is not None and asset is not None and windows:
        events[asset].extra = adapter.window_extra(windows)
    return adapter.to_xcom(result.as_dict())
