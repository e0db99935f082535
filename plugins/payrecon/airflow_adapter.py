"""The one place Airflow meets the domain package.

It turns Connections and Variables into plain `Settings`, a task context into the windows to work on,
and holds what every DAG shares (default args, the assets that wire DAGs together, alerts). Everything
else in `payrecon` is plain Python and testable without Airflow. Airflow itself is imported lazily
inside functions, so importing this module at DAG-parse time costs nothing and looks nothing up.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from payrecon.settings import DEFAULT_DATA_DIR, ReconSettings, Settings, Window

log = logging.getLogger(__name__)

WAREHOUSE_CONN_ID = "warehouse_db"
COMMERCE_CONN_ID = "commerce_db"
SMTP_CONN_ID = "smtp_default"
EMBEDDED_WRITER_POOL = "warehouse_writer"

VAR_INBOX = "payrecon_inbox_dir"
VAR_OUTPUT = "payrecon_output_dir"
VAR_GRACE_DAYS = "payrecon_settlement_grace_days"

# Asset names: the contract between DAGs (a producer's outlet, a consumer's schedule).
SETTLEMENTS_ASSET = "payrecon.settlement_lines"
ORDERS_ASSET = "payrecon.orders"
RECONCILIATION_ASSET = "payrecon.reconciliation_results"
ORDER_RULES_ASSET = "payrecon.order_rules"
FOLLOWUPS_ASSET = "payrecon.followup_outbox"


def window_params() -> dict[str, Any]:
    """The form a person fills to run a window (or a range of days) by hand or in a backfill.

    The same keys work as run conf: `airflow dags trigger -c '{"window_start": ..., "dry_run": true}'`
    and `airflow backfill create --dag-run-conf '{"gateway": "stripe"}'`.
    """
    from airflow.sdk import Param

    return {
        "window_start": Param(
            None, type=["null", "string"], format="date-time",
            description="Start of the window to (re)process, UTC. Empty: the run's own data interval.",
        ),
        "window_end": Param(
            None, type=["null", "string"], format="date-time",
            description="End of the window (exclusive), UTC. A range is processed one day at a time.",
        ),
        "gateway": Param(
            None, type=["null", "string"],
            description=(
                "Only land this gateway's settlement files (its inbox folder name, e.g. `stripe`). "
                "Empty: every gateway of include/config/gateways.yaml. Reconcile always decides the whole "
                "window (an order's state depends on every gateway) and logs this gateway's counts."
            ),
        ),
        "dry_run": Param(
            False, type="boolean",
            description=(
                "Compute and log the counts, write nothing: the work runs in one transaction that is "
                "rolled back, and the task ends Skipped so no downstream DAG is triggered."
            ),
        ),
    }


@dataclass(frozen=True)
class RunOptions:
    """The optional Params of a manual or backfill run, as plain values."""

    gateway: str | None = None
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"gateway": self.gateway, "dry_run": self.dry_run}


def run_options(context: dict[str, Any]) -> RunOptions:
    """`gateway` and `dry_run` from the run's params (the form, the run conf, or the defaults)."""
    params = context.get("params") or {}
    gateway = params.get("gateway")
    gateway = str(gateway).strip() if gateway not in (None, "") else None
    return RunOptions(gateway=gateway or None, dry_run=_truthy(str(params.get("dry_run", False))))


def skip_task(reason: str) -> None:
    """End the task Skipped: no asset event is emitted, so nothing downstream runs (dry runs)."""
    from airflow.sdk.exceptions import AirflowSkipException

    raise AirflowSkipException(reason)


def default_args(**overrides: Any) -> dict[str, Any]:
    """Shared task defaults: an owner, retries with backoff, and an alert on final failure."""
    args: dict[str, Any] = {
        "owner": "data-team",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "on_failure_callback": alert_task_failure,
    }
    args.update(overrides)
    return args


def alert_task_failure(context: dict[str, Any]) -> None:
    """A task failed for good (retries spent): log a loud, greppable line and alert the team."""
    ti = context.get("task_instance")
    log.error(
        "PAYRECON TASK FAILED dag=%s task=%s run=%s try=%s error=%s",
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        context.get("run_id"),
        getattr(ti, "try_number", "?"),
        context.get("exception"),
    )
    _send_alert(
        "task_failed", context,
        task_id=getattr(ti, "task_id", None),
        try_number=getattr(ti, "try_number", None),
        error=_short(context.get("exception")),
    )


def alert_dag_failure(context: dict[str, Any]) -> None:
    """A DAG run failed (DAG-level `on_failure_callback`, run by the dag-processor): alert the team."""
    ti = context.get("task_instance") or context.get("ti")
    log.error("PAYRECON DAG RUN FAILED run=%s reason=%s", context.get("run_id"), context.get("reason"))
    _send_alert(
        "dag_failed", context,
        task_id=getattr(ti, "task_id", None),
        try_number=getattr(ti, "try_number", None),
        detail=str(context.get("reason") or "a task failed"),
    )


def alert_deadline_missed(context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """`DeadlineAlert` callback (a `SyncCallback`, run by the executor): the run is late, alert the team."""
    context = context or {}
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    dag_id = str(dag_run.get("dag_id") or kwargs.get("dag_id") or "?")
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id")
    detail = kwargs.get("what") or "the run has not finished in time"
    extra = {"deadline": deadline.get("deadline_time"), "queued_at": dag_run.get("queued_at"),
             "state": dag_run.get("state")}
    _send_alert("deadline_missed", {"run_id": run_id, "dag": None}, dag_id=dag_id, detail=str(detail),
                extra={k: str(v) for k, v in extra.items() if v is not None})


def deadline_alert(hours: float, what: str) -> Any:
    """A `DeadlineAlert`: alert the team if a run has not finished `hours` after it was queued.

    Queued-at, not the data interval end: an asset-triggered run (how `reconcile` normally runs) has no
    data interval, and a backfill of old windows would otherwise be late before it starts. An asset
    triggered run is queued when its inputs have landed, so this reads "N hours after the data arrived".
    `PAYRECON_DEADLINE_HOURS_OVERRIDE` (environment, read at parse time) shortens it for tests.
    """
    from airflow.sdk import DeadlineAlert, DeadlineReference, SyncCallback

    override = os.environ.get("PAYRECON_DEADLINE_HOURS_OVERRIDE")
    interval = timedelta(hours=float(override) if override else hours)
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=interval,
        callback=SyncCallback(alert_deadline_missed, kwargs={"what": f"{what} within {interval} of being queued"}),
        name=f"finish within {interval}",
    )


def _short(value: Any, limit: int = 500) -> str | None:
    if value is None:
        return None
    text = f"{type(value).__name__}: {value}" if isinstance(value, BaseException) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _send_alert(kind: str, context: dict[str, Any], **fields: Any) -> dict[str, str] | None:
    """Build the alert from the context and route it; never raises (it runs inside a callback)."""
    try:
        from payrecon.ops.alerts import Alert, send_alert

        dag = context.get("dag")
        dag_id = fields.pop("dag_id", None) or getattr(dag, "dag_id", None) or getattr(
            context.get("task_instance"), "dag_id", "?"
        )
        alert = Alert(kind=kind, dag_id=str(dag_id), run_id=context.get("run_id"), **fields)
        return send_alert(alert, alert_routes())
    except Exception:  # an alert must never fail the callback that raised it
        log.exception("PAYRECON ALERT could not be built or sent (%s)", kind)
        return None


ALERTS_CONN_ID = "payrecon_alerts"
VAR_ALERT_EMAIL = "payrecon_alert_email"


def alert_routes() -> Any:
    """Where alerts go: the team webhook (`payrecon_alerts`, else `payrecon_team`) and an email to
    Variable `payrecon_alert_email` via `smtp_default`; each only when defined."""
    from payrecon.ops.alerts import DEFAULT_FROM, AlertRoutes

    webhook = None
    for conn_id in (ALERTS_CONN_ID, TEAM_CONN_ID):
        if _connection_exists(conn_id):
            webhook = http_endpoint(conn_id)
            break
    try:
        email_to = _variable(VAR_ALERT_EMAIL, "").strip() or None
    except Exception:  # a deadline callback's token may not read Variables from the API: env only there
        email_to = os.environ.get(f"AIRFLOW_VAR_{VAR_ALERT_EMAIL.upper()}", "").strip() or None
    smtp = smtp_settings() if email_to and _connection_exists(SMTP_CONN_ID) else None
    sender = (smtp.from_email if smtp is not None and smtp.from_email else None) or DEFAULT_FROM
    return AlertRoutes(webhook=webhook, smtp=smtp, email_to=email_to, email_from=sender)


def _connection_exists(conn_id: str) -> bool:
    from airflow.sdk import Connection

    try:
        Connection.get(conn_id)
        return True
    except Exception:  # AirflowNotFoundException, or no way to ask (outside a task)
        return False


def sqlalchemy_url(conn_id: str) -> str:
    """A SQLAlchemy URL from an Airflow connection.

    `extra.sqlalchemy_url` wins (that is how the embedded DuckDB file is declared); otherwise the
    connection's host, port, login and schema build a PostgreSQL URL.
    """
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    conn_type = (conn.conn_type or "").lower()
    if conn_type in {"postgres", "postgresql"}:
        from sqlalchemy.engine import URL

        return URL.create(
            "postgresql+psycopg2",
            username=conn.login,
            password=conn.password or None,
            host=conn.host,
            port=conn.port,
            database=conn.schema,
        ).render_as_string(hide_password=False)
    if conn_type in {"duckdb", "sqlite"}:
        return f"{conn_type}:///{conn.host or conn.schema}"
    raise ValueError(f"connection {conn_id!r}: cannot build a SQLAlchemy URL from conn_type {conn_type!r}")


def _variable(name: str, default: str) -> str:
    from airflow.sdk import Variable

    return str(Variable.get(name, default=default))


def settings_from_airflow(need_commerce: bool = False) -> Settings:
    """Resolve Settings at task run time (never at parse time)."""
    return Settings(
        warehouse_url=sqlalchemy_url(WAREHOUSE_CONN_ID),
        commerce_url=sqlalchemy_url(COMMERCE_CONN_ID) if need_commerce else None,
        inbox_dir=Path(_variable(VAR_INBOX, str(DEFAULT_DATA_DIR / "inbox"))),
        output_dir=Path(_variable(VAR_OUTPUT, str(DEFAULT_DATA_DIR / "output"))),
        recon=ReconSettings(settlement_grace_days=int(_variable(VAR_GRACE_DAYS, "3"))),
    )


def windows_from_context(context: dict[str, Any], *, honours_dry_run: bool = False) -> list[Window]:
    """The windows a run must work on, most explicit first.

    1. Params `window_start`/`window_end` (a manual or backfill run from the form), split into days.
    2. The windows carried in the extras of the asset events that triggered this run (several when
       upstream windows were coalesced into one run).
    3. The run's own data interval.

    Fail-safe for dry runs: every DAG's form has `dry_run`, but only task bodies that implement it say
    so (`honours_dry_run=True`: `payrecon.tasks`). Any other task asked for a dry run does nothing and
    ends Skipped, rather than writing.
    """
    params = context.get("params") or {}
    if not honours_dry_run and _truthy(str(params.get("dry_run", False))):
        log.warning("dry_run is not implemented by this task: nothing done (see docs/RUNBOOK.md)")
        skip_task("dry run requested, and this task does not implement dry runs: nothing was done")
    if params.get("window_start") and params.get("window_end"):
        return Window.parse(str(params["window_start"]), str(params["window_end"])).days()

    events = context.get("triggering_asset_events") or {}
    seen: dict[str, Window] = {}
    for asset_events in events.values():
        for event in asset_events:
            extra = getattr(event, "extra", None) or {}
            if "window_start" in extra and "window_end" in extra:
                for window in Window.parse(extra["window_start"], extra["window_end"]).days():
                    seen[window.start.isoformat()] = window
    if seen:
        return [seen[k] for k in sorted(seen)]

    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or start == end:
        raise ValueError(
            "no window: give params window_start and window_end, or run from a schedule with a data interval"
        )
    return [Window(start, end)]


def window_extra(windows: list[Window]) -> dict[str, str]:
    """Asset-event extra for the span of `windows` (downstream splits it back into days)."""
    return {"window_start": windows[0].start.isoformat(), "window_end": windows[-1].end.isoformat()}


def to_xcom(value: Any) -> Any:
    """Round-trip through JSON so only small plain values go to XCom."""
    return json.loads(json.dumps(value, default=str))


# Order rules (R2) and linking (R8): merchant choices kept as Variables, documented in rules/settings.py.
VAR_AUTO_CHARGE = "payrecon_auto_charge"
VAR_RETRY_CAP = "payrecon_retry_cap_per_card_30d"
VAR_RETRY_INTERVAL_DAYS = "payrecon_retry_interval_days"
VAR_MAX_RETRIES_PER_ORDER = "payrecon_max_retries_per_order"
VAR_LINK_WINDOW_DAYS = "payrecon_link_window_days"


def rule_settings_from_airflow() -> Any:
    """`RuleSettings` from Variables: the merchant's Auto Charge (default No) and the retry limits."""
    from payrecon.rules.settings import RuleSettings, parse_bool

    return RuleSettings(
        auto_charge=parse_bool(_variable(VAR_AUTO_CHARGE, "false")),
        retry_cap_per_card_30d=int(_variable(VAR_RETRY_CAP, "4")),
        retry_interval_days=int(_variable(VAR_RETRY_INTERVAL_DAYS, "3")),
        max_retries_per_order=int(_variable(VAR_MAX_RETRIES_PER_ORDER, "3")),
    )


def link_settings_from_airflow() -> Any:
    """`LinkSettings` from Variables: how far apart attempts of one purchase may be (default 30 days)."""
    from payrecon.linking.settings import LinkSettings

    return LinkSettings(window_days=int(_variable(VAR_LINK_WINDOW_DAYS, "30")))


# --- Follow-ups (R9-R13): delivery connections and merchant settings ---------------------------------

SMS_CONN_ID = "payrecon_sms"
CRM_CONN_ID = "payrecon_crm"
TEAM_CONN_ID = "payrecon_team"
FOLLOWUP_HTTP_CONN_IDS = {"sms": SMS_CONN_ID, "crm": CRM_CONN_ID, "team": TEAM_CONN_ID}
VAR_ALLOW_OFFLINE = "payrecon_allow_offline_orders"
VAR_ACTIONS_CONFIG = "payrecon_actions_config"


def _truthy(value: str) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "y", "on"}


def smtp_settings(conn_id: str = SMTP_CONN_ID) -> Any:
    """`SmtpSettings` from the SMTP provider's connection (`disable_ssl`, `disable_tls`, `timeout`,
    `from_email` extras, with the provider's defaults: SSL on, STARTTLS on, 30 s), or None when the
    connection is not defined (emails then wait in the outbox, and the log says why)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from payrecon.followups.channels.email import SmtpSettings

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        log.warning("SMTP connection %s is not defined; follow-up emails will wait", conn_id)
        return None
    extra = conn.extra_dejson or {}
    use_ssl = not bool(extra.get("disable_ssl", False))
    return SmtpSettings(
        host=conn.host or "localhost",
        port=int(conn.port or (465 if use_ssl else 25)),
        login=conn.login or None,
        password=conn.password or None,
        use_ssl=use_ssl,
        starttls=not use_ssl and not bool(extra.get("disable_tls", False)),
        timeout=float(extra.get("timeout", 30)),
        from_email=extra.get("from_email"),
        from_name=extra.get("from_name"),
    )


def http_endpoint(conn_id: str) -> Any:
    """`HttpEndpoint` from an HTTP connection (host may be a full URL; `extra.path`, `extra.headers`,
    `extra.timeout`), or None when the connection is not defined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from payrecon.followups.channels.webhook import HttpEndpoint

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        log.warning("HTTP connection %s is not defined; its follow-ups will wait", conn_id)
        return None
    extra = conn.extra_dejson or {}
    host = conn.host or ""
    if "://" not in host:
        scheme = conn.schema or "http"
        host = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    elif conn.port and host.count(":") < 2:
        host = f"{host}:{conn.port}"
    headers = extra.get("headers") or {}
    return HttpEndpoint(
        base_url=host,
        path=extra.get("path"),
        headers={str(k): str(v) for k, v in headers.items()},
        login=conn.login or None,
        password=conn.password or None,
        timeout=float(extra.get("timeout", 10)),
    )


def followup_endpoints() -> dict[str, Any]:
    return {name: http_endpoint(conn_id) for name, conn_id in FOLLOWUP_HTTP_CONN_IDS.items()}


def followup_config_from_airflow() -> Any:
    """The checked action configuration; the offline-orders Variable (default Yes) overrides the file."""
    from payrecon.followups.config import DEFAULT_CONFIG_PATH, load_config

    path = _variable(VAR_ACTIONS_CONFIG, str(DEFAULT_CONFIG_PATH))
    allow = _truthy(_variable(VAR_ALLOW_OFFLINE, "yes"))
    return load_config(Path(path), allow_offline_orders=allow)


def logical_now(context: dict[str, Any]) -> Any:
    """The run's logical time: the end of its data interval, else its logical date, else (asset-triggered
    and manual runs in Airflow 3 may have no logical date) the time the run was due (`run_after`)."""
    for key in ("data_interval_end", "logical_date"):
        value = context.get(key)
        if value is not None:
            return value
    run_after = getattr(context.get("dag_run"), "run_after", None)
    if run_after is not None:
        return run_after
    raise ValueError("the task context has no data_interval_end, logical_date or dag_run.run_after")


# --- Finance report (issue 7): who gets it, in which locale; the month of a month-close run ----------

VAR_REPORT_RECIPIENTS = "payrecon_report_recipients"
VAR_REPORT_SENDER = "payrecon_report_sender"
VAR_REPORT_LOCALE = "payrecon_report_locale"


def report_recipients() -> list[str]:
    """Comma-separated addresses from the Variable; empty means archive only (the task logs it)."""
    from payrecon.reports.email import parse_recipients

    return parse_recipients(_variable(VAR_REPORT_RECIPIENTS, ""))


def report_sender() -> str | None:
    """The report's From address (Variable), else the SMTP connection's `from_email` extra, else a default."""
    return _variable(VAR_REPORT_SENDER, "").strip() or None


def report_locale() -> str:
    """How numbers and amounts are written in the HTML (babel locale, default en_US)."""
    return _variable(VAR_REPORT_LOCALE, "en_US").strip() or "en_US"


def month_params() -> dict[str, Any]:
    """The form of a month-close run: which month, when not the run's own data interval."""
    from airflow.sdk import Param

    return {
        "month": Param(
            None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description="Month to report, YYYY-MM (UTC). Empty: the month of the run's data interval.",
        ),
    }


def month_from_context(context: dict[str, Any]) -> str:
    """`YYYY-MM`: the `month` param, else the month the run's data interval starts in."""
    params = context.get("params") or {}
    if params.get("month"):
        return str(params["month"])
    start = context.get("data_interval_start") or context.get("logical_date")
    if start is None:
        raise ValueError("no month: give the param month (YYYY-MM) or run from the monthly schedule")
    return start.strftime("%Y-%m")


# --- Finance (issue 9): payouts, bank, tolerances, fees, FX, exceptions, month close ------------------

FINANCE_ASSET = "payrecon.finance"
VAR_TOLERANCES_CONFIG = "payrecon_tolerances_config"
VAR_FEE_SCHEDULES_CONFIG = "payrecon_fee_schedules_config"
VAR_EXCEPTION_OWNERS = "payrecon_exception_owners"


def finance_config_from_airflow() -> Any:
    """`FinanceConfig`: the checked tolerance and fee files (paths overridable by Variables), the grace
    period of reconciliation, and default owners per exception kind (Variable, JSON object)."""
    from payrecon.finance.fees import DEFAULT_PATH as FEES_PATH
    from payrecon.finance.run import load_config
    from payrecon.finance.tolerances import DEFAULT_PATH as TOLERANCES_PATH

    owners = json.loads(_variable(VAR_EXCEPTION_OWNERS, "{}") or "{}")
    return load_config(
        Path(_variable(VAR_TOLERANCES_CONFIG, str(TOLERANCES_PATH))),
        Path(_variable(VAR_FEE_SCHEDULES_CONFIG, str(FEES_PATH))),
        grace_days=int(_variable(VAR_GRACE_DAYS, "3")),
        owners=owners,
    )


def month_close_params() -> dict[str, Any]:
    """The month-close form: the month (as `month_params`) and whether a blocked close fails the run."""
    from airflow.sdk import Param

    return {
        **month_params(),
        "fail_when_blocked": Param(True, type="boolean",
                                   description="Fail the run when an item is neither final nor explained."),
    }


def resolve_params() -> dict[str, Any]:
    """The form finance fills to resolve one exception (or, with no exception id, to apply dropped workbooks)."""
    from airflow.sdk import Param

    return {
        "exception_id": Param(None, type=["null", "string"],
                              description="The exception to resolve (from the exceptions workbook). Empty: only "
                                          "apply the workbooks dropped in the resolutions inbox."),
        "action": Param("force_match", type="string",
                        enum=["force_match", "write_off", "dispute", "refund", "reopen", "assign"],
                        description="force_match and write_off need a note; assign needs a new owner."),
        "note": Param(None, type=["null", "string"], description="Why (kept in the audit log)."),
        "write_off_amount": Param(None, type=["null", "string"],
                                  description="write_off only: amount in major units; empty = the exception's."),
        "new_owner": Param(None, type=["null", "string"], description="Hand the exception to this owner."),
        "resolved_by": Param(None, type=["null", "string"], description="Your name, for the audit log."),
    }
