"""The DAGs' task bodies end to end, configured the way a deployment is: Airflow connections.

`smtp_default` points at the local SMTP server, `payrecon_sms` / `payrecon_crm` / `payrecon_team` at the
local HTTP server, `warehouse_db` at the embedded warehouse. No scheduler: the task bodies are called
with the context a run would give them.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from followup_shop import D0, D1, standard_shop

from payrecon import followup_tasks


@pytest.fixture
def airflow_env(monkeypatch: pytest.MonkeyPatch, duck_engine, smtp, httpserver):  # noqa: ANN001, ANN201
    url = duck_engine.url.render_as_string()
    standard_shop().load(duck_engine)
    duck_engine.dispose()
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}}))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "billing@northwind.example", "timeout": 5},
    }))
    http = urlparse(httpserver.url_for("/"))
    for conn_id in ("PAYRECON_SMS", "PAYRECON_CRM", "PAYRECON_TEAM"):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id}", json.dumps(
            {"conn_type": "http", "host": http.hostname, "port": http.port, "schema": "http"}))
    for path in ("/sms", "/contacts", "/tasks"):
        httpserver.expect_request(path, method="POST").respond_with_json({"ok": True})
    monkeypatch.delenv("AIRFLOW_VAR_PAYRECON_ALLOW_OFFLINE_ORDERS", raising=False)
    return url


def test_plan_advance_dispatch_through_airflow_connections(airflow_env, smtp, httpserver) -> None:
    planned = followup_tasks.plan_followups(
        {"params": {"window_start": D0.isoformat(), "window_end": D1.isoformat()}, "logical_date": D1}
    )
    assert planned[0]["journeys_started"] == 2
    advanced = followup_tasks.advance_journeys({"data_interval_end": D1})
    assert advanced["journeys"]["post_checkout"] == {"active:await_invoice_delivery": 1}
    sent = followup_tasks.dispatch_outbox({"run_id": "scheduled__test"})
    report = followup_tasks.followups_report()

    by_kind = {kind: statuses.get("sent", 0) for kind, statuses in report["outbox"].items()}
    print("sent by kind:", by_kind, "by channel:", report["sent_by_channel"])
    assert sent["sent_total"] == sum(by_kind.values()) == 17
    assert by_kind == {
        "contact_creation": 2, "error_purchase": 1, "failed_purchase": 2, "offline_order": 1,
        "payment_failure.notify": 4, "post_checkout.invoice": 2, "successful_purchase": 5,
    }
    assert report["sent_by_channel"] == {"crm": 6, "email": 5, "sms": 2, "team": 4}
    assert len(smtp.mailbox.messages) == report["sent_by_channel"]["email"]
    assert report["invariant_violations"] == 0
    assert report["offline_orders"]["awaiting_manual_processing/USD"]["orders"] == 1


def test_without_delivery_connections_nothing_is_lost(monkeypatch: pytest.MonkeyPatch, duck_engine) -> None:
    """A deployment that has not defined smtp_default / the HTTP connections yet: the run succeeds, the
    messages wait in the outbox (one attempt counted per channel, not per message) and say why."""
    url = duck_engine.url.render_as_string()
    standard_shop().load(duck_engine)
    duck_engine.dispose()
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", json.dumps({"conn_type": "generic", "extra": {"sqlalchemy_url": url}}))
    for conn_id in ("SMTP_DEFAULT", "PAYRECON_SMS", "PAYRECON_CRM", "PAYRECON_TEAM"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id}", raising=False)
    followup_tasks.plan_followups(
        {"params": {"window_start": D0.isoformat(), "window_end": D1.isoformat()}, "logical_date": D1}
    )
    sent = followup_tasks.dispatch_outbox({"run_id": "scheduled__test"})
    assert sent["sent_total"] == 0 and sent["dead"] == 0
    report = followup_tasks.followups_report()
    assert {s for kind in report["outbox"].values() for s in kind} == {"pending", "cancelled"}
    from followup_shop import outbox_frame

    from payrecon.warehouse.engine import make_engine

    engine = make_engine(url)
    frame = outbox_frame(engine)
    engine.dispose()
    pending = frame[frame["status"] == "pending"]
    assert pending["attempts"].sum() == 3  # email, crm, team: one probe each
    assert pending["last_error"].str.contains("not configured").all()
