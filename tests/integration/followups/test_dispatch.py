"""Delivery through a real SMTP server and a real HTTP server: once each, retries, dead letters, cancels."""

from __future__ import annotations

import json

import sqlalchemy as sa
from followup_shop import D0, D1, at, outbox_frame, standard_shop
from werkzeug import Response

from payrecon.followups.channels import build_channels
from payrecon.followups.dispatcher import Dispatcher
from payrecon.followups.planner import plan
from payrecon.settings import Window

WINDOW = Window(D0, D1)


def _channels(config, smtp, endpoints):  # noqa: ANN001, ANN202
    return build_channels(smtp.settings(), endpoints, config.merchant.from_email, config.merchant.name)


def _posts(httpserver, path: str) -> list[tuple[dict, dict]]:  # noqa: ANN001
    return [(json.loads(req.get_data()), dict(req.headers)) for req, _ in httpserver.log if req.path == path]


def test_each_due_message_is_delivered_once(engine, config, smtp, endpoints, httpserver) -> None:
    standard_shop().load(engine)
    plan(engine, config, [WINDOW], now=D1)
    result = Dispatcher(engine, config, _channels(config, smtp, endpoints)).run(now=D1)
    again = Dispatcher(engine, config, _channels(config, smtp, endpoints)).run(now=D1)

    assert result.as_dict()["sent"] == {
        "contact_creation": 2, "error_purchase": 1, "failed_purchase": 2, "offline_order": 1,
        "successful_purchase": 5,
    }
    assert again.claimed == 0
    mails = smtp.mailbox.messages
    assert sorted(m["To"] for m in mails) == ["ann.lee@example.com", "bob.stone@example.com", "cy.park@example.com"]
    assert all(n == 1 for n in smtp.mailbox.ids().values())
    frame = outbox_frame(engine).set_index("outbox_id")
    for mail in mails:
        outbox_id = mail["Message-ID"].strip("<>").split("@")[0]
        assert frame.loc[outbox_id, "status"] == "sent"
        assert mail["Message-ID"] == f"<{outbox_id}@northwind.example>"
    (apology,) = smtp.mailbox.to("bob.stone@example.com")
    body = apology.get_content()
    assert "https://northwind.example/account/billing?order=O-bob" in body  # how to update the card
    assert "help@northwind.example" in body and "+1 555 0100" in body  # the merchant's contact details
    assert "$29.00" in body

    crm = _posts(httpserver, "/contacts")
    assert len(crm) == 5
    for body, headers in crm:
        assert headers["Idempotency-Key"] == body["id"]
    types = sorted((b["contact"]["customer_id"], b["contact_type"]) for b, _ in crm)
    assert types == [("C-ann", "customer"), ("C-ann", "prospect"), ("C-cy", "customer"), ("C-gus", "customer"),
                     ("C-gus", "prospect")]
    tasks = sorted((b["team"], b["kind"], b["order_id"]) for b, _ in _posts(httpserver, "/tasks"))
    assert tasks == [("finance", "task", "O-fay"), ("support", "notification", "O-eli"), ("support", "task", "O-bob")]
    with engine.connect() as conn:
        left = dict(conn.execute(sa.text("select status, count(*) from followup_outbox group by 1")).all())
    assert left == {"sent": 11, "cancelled": 2}


def test_smtp_down_then_back_delivers_every_message_once(duck_engine, config, smtp, endpoints, httpserver) -> None:
    standard_shop().load(duck_engine)
    plan(duck_engine, config, [WINDOW], now=D1)
    smtp.stop()
    down = Dispatcher(duck_engine, config, _channels(config, smtp, endpoints)).run(now=D1)
    assert down.retried == 3 and sum(down.sent.values()) == 8  # webhooks went; emails wait
    frame = outbox_frame(duck_engine)
    waiting = frame[(frame["channel"] == "email") & (frame["status"] != "cancelled")]
    assert set(waiting["status"]) == {"pending"} and waiting["attempts"].sum() == 1  # one probe, two not tried

    smtp.start()
    early = Dispatcher(duck_engine, config, _channels(config, smtp, endpoints)).run(now=D1)
    assert early.claimed == 0  # backoff: not due yet
    late = Dispatcher(duck_engine, config, _channels(config, smtp, endpoints)).run(now=D1 + (D1 - D0) / 24 / 60)
    assert sum(late.sent.values()) == 3
    ids = smtp.mailbox.ids()
    assert len(ids) == 3 and set(ids.values()) == {1}
    assert set(outbox_frame(duck_engine)["status"]) == {"sent", "cancelled"}


def test_dead_letters_after_the_limit_and_on_a_permanent_refusal(duck_engine, config, smtp, httpserver) -> None:
    from payrecon.followups.channels.webhook import HttpEndpoint

    httpserver.expect_request("/tasks", method="POST").respond_with_response(Response("busy", status=503))
    httpserver.expect_request("/contacts", method="POST").respond_with_response(Response("bad", status=422))
    endpoint = HttpEndpoint(base_url=httpserver.url_for("/").rstrip("/"), timeout=5)
    smtp.mailbox.reject.add("bob.stone@example.com")
    standard_shop().load(duck_engine)
    plan(duck_engine, config, [WINDOW], now=D1)
    channels = lambda: _channels(config, smtp, {"team": endpoint, "crm": endpoint})  # noqa: E731
    now = D1
    for _ in range(config.delivery.max_attempts + 1):
        Dispatcher(duck_engine, config, channels()).run(now=now)
        now = now + (D1 - D0)  # a day later: every backoff has passed
    frame = outbox_frame(duck_engine).set_index("idempotency_key")
    task = frame.loc["failed_purchase:order:O-bob:support_failed_task"]
    assert (task["status"], task["attempts"]) == ("dead", config.delivery.max_attempts)
    assert "HTTP 503" in task["last_error"]
    apology = frame.loc["failed_purchase:order:O-bob:apology_email"]
    assert (apology["status"], apology["attempts"]) == ("dead", 1)  # 550: no retry can help
    crm = frame[frame["channel"] == "crm"]
    assert set(crm["status"]) == {"dead"} and set(crm["attempts"]) == {1}  # HTTP 422
    assert len(smtp.mailbox.messages) == 2  # Ann's and Cy's welcome


def test_pending_follow_ups_are_cancelled_once_the_customer_pays(duck_engine, config, smtp, endpoints, httpserver) -> None:
    shop = standard_shop()
    shop.load(duck_engine)
    plan(duck_engine, config, [WINDOW], now=D1)
    # Bob comes back 10 minutes later and pays: the R8 links tie the sale to his purchase
    shop.order("O-bob2", "C-bob", "P-1002", at(11.2), "paid")
    shop.attempt("O-bob2", at(11.21), "succeeded")
    shop.load(duck_engine)
    with duck_engine.begin() as conn:
        conn.execute(sa.text(
            "update purchases set status = 'converted', converted_order_id = 'O-bob2', converted_at = :t "
            "where purchase_id = 'PU-bob'"), {"t": at(11.21)})
        conn.execute(sa.text(
            "insert into attempt_links (order_id, purchase_id, person_id, customer_id, role, linked_order_id, "
            "score, reason, created_at) values ('O-bob2', 'PU-bob', 'PER-bob', 'C-bob', 'sale', null, 1, 't', :t)"),
            {"t": at(11.21)})
    result = Dispatcher(duck_engine, config, _channels(config, smtp, endpoints)).run(now=at(11.25))
    assert result.cancelled == 2
    frame = outbox_frame(duck_engine).set_index("idempotency_key")
    assert frame.loc["failed_purchase:order:O-bob:apology_email", "status"] == "cancelled"
    assert frame.loc["failed_purchase:order:O-bob:support_failed_task", "status"] == "cancelled"
    assert smtp.mailbox.to("bob.stone@example.com") == []
