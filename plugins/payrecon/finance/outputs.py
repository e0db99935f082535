"""Per-window finance files: `{output_dir}/finance/{YYYY-MM-DD}/exceptions.xlsx` (every open exception
as of the window, to resolve in Excel) and `payouts.csv` (the window's payouts and their bank ties)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from payrecon.finance.exceptions import read_exceptions
from payrecon.finance.workbook import export
from payrecon.settings import Window


def write_window_outputs(engine: Engine, window: Window, output_dir: Path) -> list[Path]:
    folder = Path(output_dir) / "finance" / window.label
    folder.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        as_of = conn.execute(
            text("select as_of from finance_windows where window_start = :ws"), {"ws": window.start}
        ).scalar()
        open_exceptions = read_exceptions(conn, end=window.end, open_only=True)
        payouts = pd.read_sql(
            text("select * from payouts where window_start = :ws order by gateway, payout_id"), conn,
            params={"ws": window.start},
        )
    payouts_path = folder / "payouts.csv"
    payouts.to_csv(payouts_path, index=False)
    return [export(open_exceptions, folder / "exceptions.xlsx", as_of), payouts_path]
