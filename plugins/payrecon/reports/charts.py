"""Static PNG charts (matplotlib, Agg backend): they show in any mail client, with no script.

Money charts are drawn per currency (one panel each, never one axis for two currencies); counts may
be drawn together. Each function returns the written path, or None when there is nothing to draw.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from payrecon.reports.formatting import major
from payrecon.reports.sections import NO_FOLLOWUP, ReportData

GOOD, NEUTRAL, WARN, BAD, INK, MUTED = "#2e7d32", "#90a4ae", "#ef6c00", "#c62828", "#263238", "#607d8b"
STATE_COLOURS = {
    "matched": GOOD,
    "pending": NEUTRAL,
    "failed_attempt": "#5c6bc0",
    "offline": "#8d6e63",
    "amount_mismatch": BAD,
    "currency_mismatch": BAD,
    "order_without_settlement": WARN,
    "settled_without_order": WARN,
    "duplicate": BAD,
    "refund": "#7b1fa2",
    "chargeback": "#ad1457",
    "fee": MUTED,
    "payout": "#0277bd",
    "adjustment": "#00838f",
}
MAX_CURRENCY_PANELS = 6


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 10, "axes.spines.top": False, "axes.spines.right": False, "axes.titleweight": "bold",
        "axes.titlesize": 11, "axes.edgecolor": "#b0bec5", "axes.labelcolor": INK, "xtick.color": INK,
        "ytick.color": INK, "figure.facecolor": "white", "axes.facecolor": "white",
    })
    return plt


def _save(fig, path: Path) -> Path:  # noqa: ANN001 - a matplotlib Figure
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def states_chart(data: ReportData, path: Path) -> Path | None:
    """Items per reconciliation state: orders on the left, settlement lines on the right."""
    frame = data.section("reconciliation").frame
    if frame.empty:
        return None
    plt = _pyplot()
    counts = frame.groupby(["item_type", "state"], sort=True)["items"].sum().astype(int)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, (item_type, title) in zip(axes, (("order", "Orders"), ("settlement_line", "Settlement lines")),
                                      strict=True):
        if item_type not in counts.index.get_level_values(0):
            ax.set_axis_off()
            continue
        part = counts.loc[item_type].sort_values()
        labels = [s.replace("_", " ") for s in part.index]
        bars = ax.barh(labels, part.values, color=[STATE_COLOURS.get(s, MUTED) for s in part.index])
        ax.bar_label(bars, labels=[f"{v:,}" for v in part.values], padding=3, fontsize=9, color=INK)
        ax.set_title(f"{title} by state ({int(part.sum()):,})")
        ax.set_xlim(0, max(part.values) * 1.18 + 1)
        ax.xaxis.set_visible(False)
    return _save(fig, path)


def trend_chart(data: ReportData, path: Path) -> Path | None:
    """Net settled per window (bars) and ordered (line), one panel per currency; the period shaded."""
    frame = data.section("trend").frame
    if frame.empty:
        return None
    plt = _pyplot()
    currencies = (
        frame.groupby("currency")["net_minor"].apply(lambda s: s.abs().sum()).sort_values(ascending=False).index
    )[:MAX_CURRENCY_PANELS]
    days = sorted(frame["window_start"].unique())
    position = {d: i for i, d in enumerate(days)}
    step = max(1, len(days) // 10)
    ticks = list(range(0, len(days), step))
    tick_labels = [pd.Timestamp(days[i]).strftime("%d %b") for i in ticks]
    cols = min(3, len(currencies))
    rows = (len(currencies) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.9 * rows), squeeze=False)
    start = pd.Timestamp(data.period.start)
    for ax, currency in zip(axes.flat, currencies, strict=False):
        part = frame[frame["currency"] == currency].sort_values("window_start")
        x = [position[d] for d in part["window_start"]]
        net = [float(major(v, currency) or 0) for v in part["net_minor"]]
        ordered = [float(major(v, currency) or 0) for v in part["ordered_minor"]]
        colours = ["#1565c0" if d >= start else "#90caf9" for d in part["window_start"]]
        ax.bar(x, net, width=0.8, color=colours, label="net settled")
        ax.plot(x, ordered, color=WARN, marker="o", markersize=3, linewidth=1.5, label="ordered")
        ax.set_title(currency)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.set_xticks(ticks, tick_labels, rotation=45, fontsize=8)
        ax.set_xlim(-0.6, len(days) - 0.4)
    for ax in list(axes.flat)[len(currencies):]:
        ax.set_axis_off()
    axes.flat[0].legend(loc="upper left", fontsize=8, frameon=False)
    fig.suptitle("Net settled (bars, this period dark) and ordered (line) per window", fontsize=11, color=INK)
    return _save(fig, path)


def recovery_chart(data: ReportData, path: Path) -> Path | None:
    """Payments recovered by the follow-up that preceded them, and open items by kind (counts)."""
    summary = data.section("recovery_by_followup").frame
    open_items = data.section("unrecovered").frame
    if summary.empty and open_items.empty:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    if not summary.empty:
        by_touch = summary.assign(
            label=summary["touch_action"].where(summary["touch_action"] != NO_FOLLOWUP, "no follow-up before")
        ).groupby("label")["payments"].sum().astype(int).sort_values()
        colours = [NEUTRAL if "no follow-up" in lbl else GOOD for lbl in by_touch.index]
        bars = axes[0].barh([s.replace("_", " ") for s in by_touch.index], by_touch.values, color=colours)
        axes[0].bar_label(bars, labels=[f"{v:,}" for v in by_touch.values], padding=3, fontsize=9)
        axes[0].set_xlim(0, max(by_touch.values) * 1.2 + 1)
    axes[0].set_title("Recovered payments by last follow-up")
    axes[0].xaxis.set_visible(False)
    if not open_items.empty:
        by_kind = open_items.groupby("kind")["reference"].count().sort_values()
        bars = axes[1].barh(list(by_kind.index), by_kind.values, color=WARN)
        axes[1].bar_label(bars, labels=[f"{v:,}" for v in by_kind.values], padding=3, fontsize=9)
        axes[1].set_xlim(0, max(by_kind.values) * 1.2 + 1)
    axes[1].set_title("Still unrecovered (open items)")
    axes[1].xaxis.set_visible(False)
    return _save(fig, path)


CHARTS = {
    "states": (states_chart, "Reconciliation states"),
    "trend": (trend_chart, "Trend by window"),
    "recovery": (recovery_chart, "Recovery"),
}


def render_charts(data: ReportData, folder: Path) -> dict[str, Path]:
    """Every chart that has data, as `{name}.png` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (draw, _title) in CHARTS.items():
        path = draw(data, folder / f"{name}.png")
        if path is not None:
            out[name] = path
    return out
