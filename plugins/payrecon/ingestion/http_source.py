"""Pull a window of Stripe-style balance transactions over HTTP and drop them in the inbox as a file.

`GET {base_url}/v1/balance_transactions?limit=100&created[gte]=…&created[lt]=…&starting_after=…` with a
bearer key, following `has_more` / `data[-1].id` (Stripe's list pagination). A 429 waits for its
`Retry-After`; a 5xx or a dropped connection is retried with exponential backoff (tenacity); other
4xx fail at once with the status and body named. The pages become one Stripe itemized CSV in
`{inbox}/{gateway}/{YYYY-MM-DD}/`, rows sorted by (created, id), so the same window always gives the same
bytes — it then lands through the same checksum path as any file (a re-pull is a no-op).

The API key is a parameter: the Airflow adapter reads it from a connection; nothing here imports Airflow.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from upath import UPath

from payrecon.ingestion.object_store import inbox_path, write_bytes_atomic
from payrecon.money import from_minor
from payrecon.settings import Window

log = logging.getLogger(__name__)

STRIPE_COLUMNS = [
    "balance_transaction_id",
    "created_utc",
    "available_on_utc",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
    "source_id",
    "description",
    "customer_facing_amount",
    "customer_facing_currency",
    "automatic_payout_id",
    "charge_id",
    "payment_intent_id",
    "order_id",
]
PAGE_LIMIT = 100
MAX_RETRY_AFTER = 120.0


class TransientHTTPError(Exception):
    """A response worth retrying (429, 5xx) or a connection that failed."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceError(RuntimeError):
    """The API refused the request for good (401, 404, a malformed page ...)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientHTTPError) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER)
        return min(policy.backoff_base * 2 ** (state.attempt_number - 1), policy.backoff_max)

    return wait


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            return None


def _get_page(session: requests.Session, url: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        resp = session.get(url, params=params, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientHTTPError(f"connection failed: {exc}") from exc
    if resp.status_code == 429:
        raise TransientHTTPError("429 Too Many Requests", _retry_after(resp.headers.get("Retry-After")))
    if resp.status_code >= 500:
        raise TransientHTTPError(f"{resp.status_code} {resp.reason}", _retry_after(resp.headers.get("Retry-After")))
    if resp.status_code >= 400:
        raise SourceError(f"GET {url} → {resp.status_code} {resp.reason}: {resp.text[:300]}")
    try:
        page = resp.json()
    except ValueError as exc:
        raise SourceError(f"GET {url}: response is not JSON") from exc
    if not isinstance(page, dict) or not isinstance(page.get("data"), list) or "has_more" not in page:
        raise SourceError(f"GET {url}: not a list page (needs 'data' and 'has_more')")
    return page


def fetch_balance_transactions(
    base_url: str,
    api_key: str,
    window: Window,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 30.0,
    session: requests.Session | None = None,
) -> list[dict[str, Any]]:
    """Every balance transaction created in [window.start, window.end), all pages."""
    policy = policy or RetryPolicy()
    url = base_url.rstrip("/") + "/v1/balance_transactions"
    own = session is None
    session = session or requests.Session()
    session.headers.update({"Authorization": f"Bearer {api_key}", "Accept": "application/json"})
    params: dict[str, Any] = {
        "limit": PAGE_LIMIT,
        "created[gte]": int(window.start.timestamp()),
        "created[lt]": int(window.end.timestamp()),
        "expand[]": "data.source",
    }
    out: list[dict[str, Any]] = []
    pages = 0
    try:
        while True:
            retrying = Retrying(
                stop=stop_after_attempt(policy.attempts),
                wait=_wait(policy),
                retry=retry_if_exception(lambda e: isinstance(e, TransientHTTPError)),
                sleep=sleep,
                reraise=True,
                before_sleep=lambda s, page_no=pages + 1: log.warning(
                    "balance_transactions page %d: %s; retry %d", page_no, s.outcome.exception(), s.attempt_number
                ),
            )
            page = retrying(_get_page, session, url, dict(params), timeout)
            pages += 1
            data = page["data"]
            out.extend(data)
            if not page["has_more"]:
                break
            if not data:
                raise SourceError(f"GET {url}: has_more is true on an empty page {pages}")
            params["starting_after"] = data[-1]["id"]
    finally:
        if own:
            session.close()
    log.info("pulled %d balance transactions in %d page(s) for %s", len(out), pages, window.label)
    return out


def _utc(epoch: Any) -> str:
    if epoch in (None, ""):
        return ""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _decimal(minor: Any, currency: str) -> str:
    if minor in (None, ""):
        return ""
    return str(from_minor(int(minor), currency))


def to_stripe_csv(transactions: list[dict[str, Any]]) -> bytes:
    """Balance transactions as a Stripe itemized CSV (the `stripe` format), deterministic bytes."""
    rows = []
    for t in sorted(transactions, key=lambda t: (int(t.get("created") or 0), str(t.get("id")))):
        currency = str(t.get("currency") or "")
        source = t.get("source")
        source_obj = source if isinstance(source, dict) else {}
        source_id = source_obj.get("id") if source_obj else (source or "")
        charge = ""
        if str(source_id).startswith(("ch_", "py_")):
            charge = source_id
        elif isinstance(source_obj.get("charge"), str):
            charge = source_obj["charge"]
        metadata = source_obj.get("metadata") or {}
        intent = source_obj.get("payment_intent") or ""
        rows.append(
            {
                "balance_transaction_id": t.get("id", ""),
                "created_utc": _utc(t.get("created")),
                "available_on_utc": _utc(t.get("available_on")),
                "currency": currency.lower(),
                "gross": _decimal(t.get("amount"), currency),
                "fee": _decimal(t.get("fee"), currency),
                "net": _decimal(t.get("net"), currency),
                "reporting_category": t.get("reporting_category") or t.get("type") or "",
                "source_id": source_id or "",
                "description": t.get("description") or "",
                "customer_facing_amount": "",
                "customer_facing_currency": "",
                "automatic_payout_id": t.get("payout") or "",
                "charge_id": charge,
                "payment_intent_id": intent if isinstance(intent, str) else "",
                "order_id": metadata.get("order_id", "") if isinstance(metadata, dict) else "",
            }
        )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=STRIPE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def fetch_to_inbox(
    base_url: str,
    api_key: str,
    window: Window,
    inbox_dir: str | Path | UPath,
    gateway: str,
    **kwargs: Any,
) -> Path:
    """Pull the window and write it as `{inbox}/{gateway}/{window date}/balance_transactions_api.csv`."""
    transactions = fetch_balance_transactions(base_url, api_key, window, **kwargs)
    data = to_stripe_csv(transactions)
    end = window.end.strftime("%Y%m%dT%H%M%S")
    path = inbox_path(inbox_dir) / gateway / window.label / f"balance_transactions_api_{window.start:%Y%m%dT%H%M%S}_{end}.csv"
    if path.exists() and path.read_bytes() == data:
        return path
    write_bytes_atomic(path, data)
    log.info("wrote %d balance transactions to %s", len(transactions), path)
    return path
