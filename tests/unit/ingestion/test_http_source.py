"""The HTTP source against a local server serving Stripe's list shapes, with a 429 and a 503."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from payrecon.ingestion.formats import parser_for
from payrecon.ingestion.http_source import RetryPolicy, SourceError, fetch_to_inbox
from payrecon.ingestion.lines import FileContext
from payrecon.settings import Window

WINDOW = Window.day("2026-11-01")
T0 = int(WINDOW.start.timestamp())


def _txn(i: int, **extra) -> dict:
    base = {
        "id": f"txn_{i:04d}",
        "object": "balance_transaction",
        "amount": 1000 + i,
        "fee": 59,
        "net": 1000 + i - 59,
        "currency": "usd",
        "created": T0 + 60 * i,
        "available_on": T0 + 2 * 86400,
        "reporting_category": "charge",
        "type": "charge",
        "description": f"Payment {i}",
        "source": {"id": f"ch_{i:04d}", "object": "charge", "metadata": {"order_id": str(5000 + i)}},
    }
    base.update(extra)
    return base


class FakeStripe:
    """Pages of `page_size` over `txns`, failing the first calls as scripted."""

    def __init__(self, txns: list[dict], page_size: int = 100, failures: list[Response] | None = None) -> None:
        self.txns, self.page_size = txns, page_size
        self.failures = list(failures or [])
        self.calls: list[dict] = []

    def __call__(self, request: Request) -> Response:
        self.calls.append(dict(request.args))
        assert request.headers.get("Authorization") == "Bearer sk_test_123"
        if self.failures:
            return self.failures.pop(0)
        gte, lt = int(request.args["created[gte]"]), int(request.args["created[lt]"])
        limit = min(int(request.args.get("limit", 10)), self.page_size)
        rows = [t for t in self.txns if gte <= t["created"] < lt]
        after = request.args.get("starting_after")
        if after:
            rows = rows[[t["id"] for t in rows].index(after) + 1 :]
        page = rows[:limit]
        body = {"object": "list", "url": "/v1/balance_transactions", "has_more": len(rows) > limit, "data": page}
        return Response(json.dumps(body), content_type="application/json")


def _serve(httpserver: HTTPServer, fake: FakeStripe) -> str:
    httpserver.expect_request("/v1/balance_transactions", method="GET").respond_with_handler(fake)
    return httpserver.url_for("/")


def test_fetch_follows_cursor_and_retries_429_and_503(httpserver: HTTPServer, tmp_path: Path) -> None:
    txns = [_txn(i) for i in range(250)] + [_txn(999, created=T0 + 86400)]  # the last is outside the window
    fake = FakeStripe(
        txns,
        page_size=100,
        failures=[
            Response("slow down", status=429, headers={"Retry-After": "7"}),
            Response("unavailable", status=503),
        ],
    )
    waits: list[float] = []
    path = fetch_to_inbox(
        _serve(httpserver, fake), "sk_test_123", WINDOW, tmp_path / "inbox", "stripe_api",
        policy=RetryPolicy(attempts=5, backoff_base=0.25), sleep=waits.append,
    )
    assert waits == [7.0, 0.5]  # Retry-After honoured, then exponential backoff (0.25 * 2**1)
    assert len(fake.calls) == 2 + 3  # two failures, then three pages
    assert [c.get("starting_after") for c in fake.calls[2:]] == [None, "txn_0099", "txn_0199"]
    assert Path(str(path)).parent == tmp_path / "inbox" / "stripe_api" / "2026-11-01"
    parsed = parser_for("stripe")(Path(str(path)).read_bytes(), FileContext(path.name, "stripe_api", date(2026, 11, 1)))
    assert parsed.bad == [] and len(parsed.lines) == 250
    first = parsed.lines.iloc[0]
    assert (first["gross_minor"], first["fee_minor"], first["net_minor"]) == (1000, 59, 941)
    assert (first["charge_id"], first["order_ref"]) == ("ch_0000", "5000")

    again = fetch_to_inbox(
        _serve(httpserver, FakeStripe(txns)), "sk_test_123", WINDOW, tmp_path / "inbox", "stripe_api",
        sleep=waits.append,
    )
    assert Path(str(again)).read_bytes() == Path(str(path)).read_bytes()  # same window, same bytes


def test_fetch_gives_up_after_the_retry_budget(httpserver: HTTPServer, tmp_path: Path) -> None:
    fake = FakeStripe([], failures=[Response("down", status=503) for _ in range(10)])
    with pytest.raises(Exception, match="503"):
        fetch_to_inbox(_serve(httpserver, fake), "sk_test_123", WINDOW, tmp_path, "gw",
                       policy=RetryPolicy(attempts=3), sleep=lambda s: None)
    assert len(fake.calls) == 3


def test_fetch_fails_at_once_on_401(httpserver: HTTPServer, tmp_path: Path) -> None:
    fake = FakeStripe([], failures=[Response('{"error": "bad key"}', status=401)])
    with pytest.raises(SourceError, match="401"):
        fetch_to_inbox(_serve(httpserver, fake), "sk_test_123", WINDOW, tmp_path, "gw", sleep=lambda s: None)
    assert len(fake.calls) == 1
