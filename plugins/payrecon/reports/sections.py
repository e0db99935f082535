"""The report's sections: one table each (a CSV, an XLSX sheet, a block of the HTML).

Each section is a small frame straight from one SQL query (or a vectorised summary of another
section's small frame), with column specs that tell the writers how to show each column. Money
columns hold integer minor units beside the row's `currency`; they are never added across currencies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
from sqlalchemy import Connection

from payrecon.reports import queries
from payrecon.reports.period import ReportPeriod

log = logging.getLogger(__name__)

# column kinds: text, id, int, money (minor units, row currency), rate (0..1), datetime (UTC), hours, bool
KINDS = frozenset({"text", "id", "int", "money", "rate", "datetime", "hours", "bool"})


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    kind: str = "text"
    html: bool = True  # shown in the email's table (every column is in the CSV and the workbook)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Section:
    key: str  # file and anchor name
    sheet: str  # XLSX sheet name (<= 31 characters)
    title: str
    description: str
    columns: list[Column]
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    html_rows: int = 20  # the email shows the first rows; the CSV and XLSX hold them all
    group: str = ""

    @property
    def rows(self) -> int:
        return len(self.frame)

    def view(self) -> pd.DataFrame:
        """The frame with exactly the declared columns, in order."""
        out = self.frame.copy()
        for col in self.columns:
            if col.name not in out.columns:
                out[col.name] = pd.NA
        return out[[c.name for c in self.columns]]


def C(name: str, title: str, kind: str = "text", html: bool = True) -> Column:  # noqa: N802 - a short spec builder
    return Column(name, title, kind, html)


@dataclass
class ReportData:
    period: ReportPeriod
    generated_at: datetime
    as_of: datetime | None
    windows_reconciled: int
    sections: list[Section]
    outbox_present: bool
    missing: dict[str, list[str]] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


def _fetch(conn: Connection, name: str, period: ReportPeriod, tables: set[str], missing: dict) -> pd.DataFrame | None:
    gone = queries.missing_tables(name, tables)
    if gone:
        missing[name] = gone
        log.warning("report section %s skipped: table(s) %s not in this warehouse", name, ", ".join(gone))
        return None
    return queries.fetch(conn, name, period.binds())


def _missing_note(name: str, missing: dict) -> list[str]:
    if name in missing:
        return [f"Not available: the warehouse has no {', '.join(missing[name])} table yet."]
    return []


def _empty(columns: list[Column]) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in columns})


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num = num.astype("Float64")
    den = den.astype("Float64")
    return (num / den.where(den != 0)).astype("Float64")


def _hours(later: pd.Series, earlier: pd.Series) -> pd.Series:
    delta = (later - earlier).dt.total_seconds() / 3600
    return delta.astype("Float64")


def _round_minor(total: int, n: int) -> int:
    return int((Decimal(total) / Decimal(n)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# --- section builders -------------------------------------------------------------------------------

TOTALS_COLUMNS = [
    C("gateway", "Gateway"), C("currency", "Currency"),
    C("orders_charged", "Orders charged", "int"), C("ordered_minor", "Ordered", "money"),
    C("charge_lines", "Charge lines", "int"), C("settled_gross_minor", "Settled gross", "money"),
    C("fees_minor", "Fees", "money"), C("refunds_minor", "Refunds", "money"),
    C("chargebacks_minor", "Chargebacks", "money"), C("adjustments_minor", "Adjustments", "money"),
    C("net_minor", "Net settled", "money"), C("payouts_minor", "Paid out", "money"),
]
MONEY_TOTALS = [c.name for c in TOTALS_COLUMNS if c.kind in ("money", "int")]


def totals_sections(frame: pd.DataFrame | None, notes: list[str]) -> list[Section]:
    frame = frame if frame is not None else _empty(TOTALS_COLUMNS)
    by_currency = frame.groupby("currency", sort=True)[MONEY_TOTALS].sum().reset_index() if len(frame) else _empty(
        TOTALS_COLUMNS[1:]
    )
    common = [
        "Ordered: orders of the period that were charged, at the charged amount. Failed attempts and "
        "offline orders are not sales; an offline order counts once approved by hand (R12).",
        "Settled: lines of the settlement files of the period, signed as the gateway reports them "
        "(fees, refunds and chargebacks negative): net = gross + fees + refunds + chargebacks + adjustments.",
    ]
    return [
        Section(
            "totals_currency", "Totals by currency", "Totals by currency",
            "What was ordered and what the gateways settled, one row per currency (all gateways).",
            TOTALS_COLUMNS[1:], by_currency, notes + common, group="Money",
        ),
        Section(
            "totals", "Totals by gateway", "Totals by gateway and currency",
            "The same totals split by gateway.", TOTALS_COLUMNS, frame, notes, group="Money",
        ),
    ]


RECON_COLUMNS = [
    C("item_type", "Item"), C("state", "State"), C("currency", "Currency"), C("items", "Items", "int"),
    C("expected_minor", "Expected", "money"), C("settled_minor", "Settled", "money"),
    C("difference_minor", "Difference", "money"), C("fee_minor", "Fees", "money"),
]
EXCEPTION_COLUMNS = [
    C("kind", "Kind", html=False), C("state", "Exception"), C("order_id", "Order", "id"), C("gateway", "Gateway"),
    C("gateway_ref", "Gateway reference", "id"), C("currency", "Currency"), C("expected_minor", "Expected", "money"),
    C("settled_minor", "Settled", "money"), C("difference_minor", "Difference", "money"),
    C("occurred_at", "Occurred (UTC)", "datetime"), C("age_days", "Age (days)", "int"),
    C("is_new", "New this period", "bool"), C("detail", "Detail"), C("line_id", "Settlement line id", "id", False),
]


def reconciliation_sections(states: pd.DataFrame | None, exceptions: pd.DataFrame | None, notes: list[str],
                            period: ReportPeriod) -> list[Section]:
    states = states if states is not None else _empty(RECON_COLUMNS)
    exceptions = exceptions if exceptions is not None else _empty(EXCEPTION_COLUMNS)
    return [
        Section(
            "reconciliation", "Reconciliation states", "Reconciliation states (R14)",
            "Every settlement line and every order of the period in exactly one state, with amounts.",
            RECON_COLUMNS, states, notes, html_rows=40, group="Reconciliation",
        ),
        Section(
            "exceptions", "Exceptions", "Exceptions to chase",
            "Mismatches, missing settlements (past the grace period), orphan lines and duplicate lines, "
            "from the period and the 30 days before it, oldest first.",
            EXCEPTION_COLUMNS, exceptions, notes, html_rows=25, group="Reconciliation",
        ),
    ]


SALES_COLUMNS = [
    C("currency", "Currency"), C("orders_placed", "Initial orders placed", "int"), C("sales", "Sales", "int"),
    C("sales_minor", "Sales amount", "money"), C("failed_attempts", "Failed attempts (not sales)", "int"),
    C("failed_attempts_minor", "Failed attempts amount", "money"),
    C("duplicate_sales", "Second paid orders", "int", False),
    C("purchases_started", "Purchases started", "int"), C("purchases_converted", "Purchases converted", "int"),
    C("clean_conversion_rate", "Clean conversion rate", "rate"),
    C("raw_success_rate", "Raw order success rate", "rate"),
    C("converted_after_failure", "Converted after a failure", "int"),
    C("converted_after_failure_minor", "Converted after a failure amount", "money", False),
]


def sales_section(frame: pd.DataFrame | None, notes: list[str]) -> Section:
    if frame is None:
        frame = _empty(SALES_COLUMNS)
    else:
        frame = frame.copy()
        frame["clean_conversion_rate"] = _ratio(frame["purchases_converted"], frame["purchases_started"])
        frame["raw_success_rate"] = _ratio(frame["paid_orders"], frame["orders_placed"])
    return Section(
        "sales", "Sales (R8)", "Sales counted cleanly (R8)",
        "Initial orders of the period by their role in a purchase: a failed attempt is not a sale, and a "
        "purchase that failed, then paid, counts once. Clean conversion = purchases converted / purchases "
        "started; the raw order success rate (paid orders / orders placed) is shown for contrast.",
        SALES_COLUMNS, frame,
        notes + ["Installments of a running subscription or payment plan are payments, not purchases: not counted here."],
        group="Sales",
    )


RECOVERED_COLUMNS = [
    C("kind", "Recovered"), C("reference", "Purchase / order", "id"), C("paid_order_id", "Paid order", "id", False),
    C("customer_id", "Customer", "id", False), C("currency", "Currency"), C("amount_minor", "Amount", "money"),
    C("failed_at", "First failure (UTC)", "datetime"), C("paid_at", "Paid (UTC)", "datetime"),
    C("touch_channel", "Last follow-up channel"), C("touch_action", "Last follow-up"),
    C("touch_sent_at", "Follow-up sent (UTC)", "datetime", False),
    C("hours_before_payment", "Follow-up before payment", "hours"),
    C("touches_before", "Follow-ups before payment", "int"),
]
RECOVERY_SUMMARY_COLUMNS = [
    C("touch_channel", "Channel"), C("touch_action", "Follow-up"), C("currency", "Currency"),
    C("payments", "Payments recovered", "int"), C("amount_minor", "Amount recovered", "money"),
    C("avg_hours_before_payment", "Average time before payment", "hours"),
]
UNRECOVERED_COLUMNS = [
    C("kind", "Open item"), C("reference", "Purchase / order", "id"), C("order_id", "Last order", "id", False),
    C("customer_id", "Customer", "id", False), C("currency", "Currency"), C("amount_minor", "Amount", "money"),
    C("failed_at", "Failed (UTC)", "datetime"), C("age_days", "Age (days)", "int"),
    C("followups_sent", "Follow-ups sent", "int"), C("followups_waiting", "Follow-ups waiting to go out", "int"),
    C("last_followup_channel", "Last follow-up channel"),
    C("last_followup_action", "Last follow-up"), C("last_followup_at", "Last follow-up (UTC)", "datetime", False),
    C("next_retry_at", "Next automatic retry (UTC)", "datetime"),
]
NO_FOLLOWUP = "(none before payment)"


def recovery_sections(recovered: pd.DataFrame | None, unrecovered: pd.DataFrame | None, notes_rec: list[str],
                      notes_unrec: list[str], outbox_present: bool) -> list[Section]:
    outbox_note = [] if outbox_present else [
        "The follow-ups outbox (followup_outbox) is not in this warehouse yet: payments cannot be "
        "attributed to a follow-up, so every recovery shows no follow-up."
    ]
    if recovered is None:
        recovered = _empty(RECOVERED_COLUMNS)
        summary = _empty(RECOVERY_SUMMARY_COLUMNS)
    else:
        recovered = recovered.copy()
        recovered["hours_before_payment"] = _hours(recovered["paid_at"], recovered["touch_sent_at"])
        keyed = recovered.assign(
            touch_channel=recovered["touch_channel"].fillna("none"),
            touch_action=recovered["touch_action"].fillna(NO_FOLLOWUP),
        )
        summary = (
            keyed.groupby(["touch_channel", "touch_action", "currency"], sort=True, dropna=False)
            .agg(
                payments=("reference", "count"),
                amount_minor=("amount_minor", "sum"),
                avg_hours_before_payment=("hours_before_payment", "mean"),
            )
            .reset_index()
        )
        summary["payments"] = summary["payments"].astype("Int64")
        summary["amount_minor"] = summary["amount_minor"].astype("Int64")
    if unrecovered is None:
        unrecovered = _empty(UNRECOVERED_COLUMNS)
    attribution = (
        "Last touch: each payment is attributed to the last email, SMS or team task sent for its purchase "
        "(any of its orders) or order before the payment was made."
    )
    if outbox_present and len(recovered) and recovered["touch_channel"].isna().all():
        waiting = int(unrecovered["followups_waiting"].sum()) if "followups_waiting" in unrecovered else 0
        notes_rec = notes_rec + [
            "No payment of this period was preceded by a delivered follow-up"
            + (f"; {waiting:,} follow-ups for open items are still waiting to go out (see Unrecovered)."
               if waiting else ".")
        ]
    return [
        Section(
            "recovery_by_followup", "Recovery by follow-up", "Recovered revenue by follow-up",
            "Payments made after a failure in the period, by the follow-up that preceded them.",
            RECOVERY_SUMMARY_COLUMNS, summary, notes_rec + outbox_note + [attribution], group="Recovery",
        ),
        Section(
            "recovered", "Recovered revenue", "Recovered payments",
            "Purchases paid after failed attempts, failed installments paid later and offline orders "
            "approved by hand in the period, each with the follow-up sent before the payment.",
            RECOVERED_COLUMNS, recovered, notes_rec + outbox_note, group="Recovery",
        ),
        Section(
            "unrecovered", "Unrecovered", "Still unrecovered",
            "Purchases whose attempts all failed, failed installments not paid and offline orders not yet "
            "processed, at the end of the period (failures of the last 30 days; offline orders of any age).",
            UNRECOVERED_COLUMNS, unrecovered, notes_unrec + outbox_note, group="Recovery",
        ),
    ]


FAILED_INITIAL_COLUMNS = [
    C("order_id", "Order", "id"), C("customer_id", "Customer", "id", False), C("product_id", "Product", "id"),
    C("origin", "Origin"), C("rule", "Rule"), C("result", "Decision"), C("order_status", "Order status"),
    C("currency", "Currency"), C("amount_minor", "Amount", "money"), C("failed_at", "Failed (UTC)", "datetime"),
    C("failure_code", "Decline / error"), C("purchase_role", "Role in purchase"),
    C("paid_by_order_id", "Paid later by order", "id"),
]
RETRY_COLUMNS = [
    C("order_id", "Order", "id"), C("customer_id", "Customer", "id"), C("subscription_id", "Subscription", "id"),
    C("installment_no", "Installment", "int"), C("rule", "Rule"), C("decline_code", "Decline"),
    C("failed_attempts", "Failed attempts", "int"), C("currency", "Currency"), C("amount_minor", "Amount", "money"),
    C("last_attempted_at", "Last attempt (UTC)", "datetime"), C("next_attempt_at", "Next attempt (UTC)", "datetime"),
]
OFFLINE_COLUMNS = [
    C("state", "State"), C("order_id", "Order", "id"), C("customer_id", "Customer", "id"),
    C("product_id", "Product", "id"), C("currency", "Currency"), C("amount_minor", "Amount", "money"),
    C("submitted_at", "Submitted (UTC)", "datetime"), C("approved_at", "Approved by hand (UTC)", "datetime"),
    C("age_days", "Age (days)", "int"), C("followup_status", "Follow-up task"),
]
DUPLICATE_COLUMNS = [
    C("order_id", "Order to refund", "id"), C("original_order_id", "Original order", "id"),
    C("purchase_id", "Purchase", "id", False), C("customer_id", "Customer", "id"), C("currency", "Currency"),
    C("amount_minor", "Amount to refund", "money"), C("charged_at", "Charged (UTC)", "datetime"),
    C("age_days", "Age (days)", "int"), C("is_new", "New this period", "bool"), C("reason", "Reason"),
]


def rules_sections(failed: pd.DataFrame | None, retry: pd.DataFrame | None, offline: pd.DataFrame | None,
                   duplicates: pd.DataFrame | None, notes: dict[str, list[str]]) -> list[Section]:
    return [
        Section(
            "failed_initial", "Failed initial (R1)", "Failed initial orders, not retried (R1)",
            "Initial orders of the period whose payment failed: tagged failed_initial, auto-charge No, never "
            "put on a retry list (R1; R3, R5-R7 where they decided). 'Paid later by' ties a failed attempt to "
            "the order that paid for the purchase (R8).",
            FAILED_INITIAL_COLUMNS, failed if failed is not None else _empty(FAILED_INITIAL_COLUMNS),
            notes["failed_initial"], group="Rules",
        ),
        Section(
            "retry_list", "Retry list (R2)", "Retry list (R2)",
            "Failed payments to re-attempt automatically (subsequent installments under Auto Charge Yes, R2; "
            "action-set orders that said Yes, R5), as the list stands at the end of the period.",
            RETRY_COLUMNS, retry if retry is not None else _empty(RETRY_COLUMNS), notes["retry_list"], group="Rules",
        ),
        Section(
            "offline", "Offline orders (R12)", "Offline orders (R12)",
            "Orders submitted offline after a decline: never processed by the gateway and not revenue until "
            "someone processes them by hand. Pending ones of any age, and those approved by hand in the period.",
            OFFLINE_COLUMNS, offline if offline is not None else _empty(OFFLINE_COLUMNS), notes["offline"],
            group="Rules",
        ),
        Section(
            "duplicates", "Duplicate charges", "Duplicate charges to refund",
            "Customers charged twice for one purchase (a second paid order, or a second charge on one order), "
            "not refunded yet.",
            DUPLICATE_COLUMNS, duplicates if duplicates is not None else _empty(DUPLICATE_COLUMNS),
            notes["duplicates"], group="Rules",
        ),
    ]


TREND_COLUMNS = [
    C("window_start", "Window (UTC)", "datetime"), C("currency", "Currency"),
    C("orders_charged", "Orders charged", "int"), C("ordered_minor", "Ordered", "money"),
    C("settled_gross_minor", "Settled gross", "money"), C("net_minor", "Net settled", "money"),
    C("match_rate", "Match rate", "rate"), C("failed_attempts", "Failed attempts", "int"),
    C("exceptions", "Exceptions", "int"),
]
TREND_SUMMARY_COLUMNS = [
    C("currency", "Currency"), C("windows_in_period", "Windows in period", "int", False),
    C("net_minor", "Net settled per window", "money"), C("net_prev7_minor", "Avg previous 7", "money"),
    C("net_prev30_minor", "Avg previous 30", "money"), C("net_change_vs7", "Change vs 7", "rate"),
    C("ordered_minor", "Ordered per window", "money"),
    C("ordered_prev7_minor", "Avg previous 7 (ordered)", "money", False),
    C("ordered_prev30_minor", "Avg previous 30 (ordered)", "money", False),
    C("match_rate", "Match rate", "rate"), C("match_rate_prev7", "Match rate previous 7", "rate"),
    C("match_rate_prev30", "Match rate previous 30", "rate", False),
    C("exceptions", "Exceptions per window", "int"),
    C("exceptions_prev7", "Avg previous 7 (exceptions)", "int"),
    C("windows_prev7", "Previous windows (7)", "int", False), C("windows_prev30", "Previous windows (30)", "int", False),
]


def trend_sections(frame: pd.DataFrame | None, notes: list[str], period: ReportPeriod) -> list[Section]:
    if frame is None:
        frame = _empty(TREND_COLUMNS)
        summary = pd.DataFrame(columns=[c.name for c in TREND_SUMMARY_COLUMNS])
    else:
        frame = frame.copy()
        frame["match_rate"] = _ratio(frame["orders_matched"], frame["orders_settled_or_overdue"])
        summary = trend_summary(frame, period)
    return [
        Section(
            "trend_summary", "Trend vs previous", "This period against the previous 7 and 30 windows",
            "Per-window averages, per currency: net settled, ordered, match rate (matched / orders settled or "
            "overdue) and exceptions. 'Previous' counts only windows that were reconciled.",
            TREND_SUMMARY_COLUMNS, summary, notes, group="Trend",
        ),
        Section(
            "trend", "Trend by window", "Trend by window",
            f"Each reconciled window from {period.trend_start:%Y-%m-%d} to the end of the period.",
            TREND_COLUMNS, frame, notes, html_rows=0, group="Trend",
        ),
    ]


def trend_summary(frame: pd.DataFrame, period: ReportPeriod) -> pd.DataFrame:
    """Per currency: the period's per-window averages against the 7 and 30 windows before it."""
    rows = []
    for currency, grp in frame.groupby("currency", sort=True):
        in_period = grp[grp["window_start"] >= pd.Timestamp(period.start)]
        before = grp[grp["window_start"] < pd.Timestamp(period.start)].sort_values("window_start")
        prev7, prev30 = before.tail(7), before.tail(30)
        row: dict[str, object] = {
            "currency": currency,
            "windows_in_period": len(in_period),
            "windows_prev7": len(prev7),
            "windows_prev30": len(prev30),
        }
        for metric in ("net_minor", "ordered_minor"):
            stem = metric.removesuffix("_minor")
            row[metric] = _avg_minor(in_period[metric])
            row[f"{stem}_prev7_minor"] = _avg_minor(prev7[metric])
            row[f"{stem}_prev30_minor"] = _avg_minor(prev30[metric])
        row["net_change_vs7"] = (
            (row["net_minor"] - row["net_prev7_minor"]) / abs(row["net_prev7_minor"])
            if row["net_minor"] is not None and row["net_prev7_minor"] not in (None, 0) else None
        )
        for suffix, part in (("", in_period), ("_prev7", prev7), ("_prev30", prev30)):
            settled = int(part["orders_settled_or_overdue"].sum())
            row[f"match_rate{suffix}"] = int(part["orders_matched"].sum()) / settled if settled else None
        row["exceptions"] = _avg_count(in_period["exceptions"])
        row["exceptions_prev7"] = _avg_count(prev7["exceptions"])
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in out.columns:
        if col.endswith("_minor") or col.startswith("windows_") or col.startswith("exceptions"):
            out[col] = out[col].astype("Int64")
        elif col.startswith(("match_rate", "net_change")):
            out[col] = out[col].astype("Float64")
    return out


def _avg_minor(values: pd.Series) -> int | None:
    if len(values) == 0:
        return None
    return _round_minor(int(values.sum()), len(values))


def _avg_count(values: pd.Series) -> int | None:
    if len(values) == 0:
        return None
    return _round_minor(int(values.sum()), len(values))


# --- the whole report -----------------------------------------------------------------------------


def collect(conn: Connection, period: ReportPeriod, generated_at: datetime) -> ReportData:
    """Run every report query for `period` on one connection and assemble the sections."""
    tables = queries.table_names(conn)
    missing: dict[str, list[str]] = {}
    outbox_present = queries.prepare_outbox(conn, tables)
    frames = {name: _fetch(conn, name, period, tables, missing) for name in queries.TABLES}
    queries.drop_temporary(conn)
    note = {name: _missing_note(name, missing) for name in queries.TABLES}

    as_of, reconciled = None, 0
    if "reconciliation_windows" in tables:
        from sqlalchemy import text

        as_of, reconciled = conn.execute(
            text(
                "select max(as_of), count(*) from reconciliation_windows "
                "where window_start >= :s and window_start < :e"
            ),
            {"s": period.start, "e": period.end},
        ).one()
    sections = [
        *totals_sections(frames["totals"], note["totals"]),
        *reconciliation_sections(frames["recon_states"], frames["exceptions"],
                                 note["recon_states"] + note["exceptions"], period),
        sales_section(frames["sales"], note["sales"]),
        *recovery_sections(frames["recovered"], frames["unrecovered"], note["recovered"], note["unrecovered"],
                           outbox_present),
        *rules_sections(frames["failed_initial"], frames["retry_list"], frames["offline"], frames["duplicates"],
                        note),
        *trend_sections(frames["trend"], note["trend"], period),
    ]
    return ReportData(period, generated_at, as_of, int(reconciled or 0), sections, outbox_present, missing)
