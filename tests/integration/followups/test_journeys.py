"""Journeys (R13 post-checkout, R11 payment failure) with time moved forward one day at a time.

Each day: advance the journeys at that day's logical time, then run the dispatcher at the same time,
through the real SMTP and HTTP servers. Waiting holds nothing: between days there is no process.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from followup_shop import D0, D1, Shop, at

from payrecon.followups.channels import build_channels
from payrecon.followups.dispatcher import Dispatcher
from payrecon.followups.journeys import advance
from payrecon.followups.planner import plan
from payrecon.settings import Window


def journey_shop() -> Shop:
    shop = Shop()
    shop.product("P-1001", "Online course: Bookkeeping Basics", price=19900)
    shop.product("P-2001", "Membership (monthly)", kind="subscription")
    # two course buyers: Gus starts on day 3 after the invoice, Hana never does
    shop.customer("C-gus", "Gus", "Nye", D0 - timedelta(days=40))
    shop.order("O-gus", "C-gus", "P-1001", at(16), "paid", total=19900)
    shop.attempt("O-gus", at(16.01), "succeeded", amount=19900)
    shop.started("cs-gus", "C-gus", "P-1001", D1 + timedelta(days=2, hours=10))
    shop.customer("C-hana", "Hana", "Ito", D0 - timedelta(days=40))
    shop.order("O-hana", "C-hana", "P-1001", at(17), "paid", total=19900)
    shop.attempt("O-hana", at(17.01), "succeeded", amount=19900)
    # two failed membership renewals (R11): Dee never pays, Jo's card goes through on day 2
    shop.customer("C-dee", "Dee", "Ray", D0 - timedelta(days=90))
    shop.order("O-dee", "C-dee", "P-2001", at(13), "failed", installment_no=3, subscription_id="S-dee")
    shop.attempt("O-dee", at(13.01), "declined")
    shop.customer("C-jo", "Jo", "Kim", D0 - timedelta(days=60), phone=None)
    shop.order("O-jo", "C-jo", "P-2001", at(14), "failed", installment_no=2, subscription_id="S-jo")
    shop.attempt("O-jo", at(14.01), "declined")
    shop.attempt("O-jo", D1 + timedelta(days=1, hours=10), "succeeded")
    return shop


def _subjects(mails) -> list[tuple[str, str]]:  # noqa: ANN001
    return sorted((m["To"].split("@")[0], str(m["Subject"]).split(":")[0].split(" ")[0]) for m in mails)


def test_r13_r11_journeys_day_by_day(engine, config, smtp, endpoints, httpserver) -> None:
    journey_shop().load(engine)
    plan(engine, config, [Window(D0, D1)], now=D1)
    days: dict[int, list[tuple[str, str]]] = {}
    sms: dict[int, list[str]] = {}
    tasks: dict[int, list[str]] = {}
    for day in range(10):
        now = D1 + timedelta(days=day)
        seen_mail, seen_http = len(smtp.mailbox.messages), len(httpserver.log)
        advance(engine, config, now)
        channels = build_channels(smtp.settings(), endpoints, config.merchant.from_email)
        Dispatcher(engine, config, channels).run(now=now)
        days[day] = _subjects(smtp.mailbox.messages[seen_mail:])
        new = [req for req, _ in httpserver.log[seen_http:]]
        sms[day] = sorted(req.get_json()["to"] for req in new if req.path == "/sms")
        tasks[day] = sorted(req.get_json()["team"] for req in new if req.path == "/tasks")

    # day 0: the invoice email and SMS for each course buyer; the failure notice for each renewal
    assert days[0] == [("dee.ray", "Action"), ("gus.nye", "Your"), ("hana.ito", "Your"), ("jo.kim", "Action")]
    assert sms[0] == ["+15550001", "+15550001", "+15550001"]  # Jo has no phone: that SMS is skipped
    assert tasks[0] == ["finance", "finance"]
    # day 3: Dee has not paid after the 3-day grace: second notice and a support task; Jo paid on day 2
    assert days[3] == [("dee.ray", "Action")] and tasks[3] == ["support"]
    # day 7 after the invoice was delivered: Hana never started -> the reminder with help links
    assert days[7] == [("hana.ito", "Ready")]
    reminder = smtp.mailbox.to("hana.ito@example.com")[-1].get_content()
    assert "https://learn.northwind.example/bookkeeping/getting-started" in reminder
    # and nothing on any other day
    assert all(days[d] == [] for d in (1, 2, 4, 5, 6, 8, 9)), days
    assert all(tasks[d] == [] and sms[d] == [] for d in range(1, 10) if d != 3), (tasks, sms)
    assert sms[3] == []

    with engine.connect() as conn:
        ends = dict(conn.execute(sa.text(
            "select order_id, status || ':' || coalesce(end_reason, '') || ':' || step from journey_instances"
        )).all())
        ended = dict(conn.execute(sa.text("select order_id, ended_at from journey_instances")).all())
    assert ends == {
        "O-gus": "exited:course_started:wait_for_course_start",  # started -> exit, no reminder
        "O-hana": "completed:completed:end",
        "O-dee": "completed:completed:end",
        "O-jo": "exited:paid:grace",
    }
    assert ended["O-gus"] == D1 + timedelta(days=3)  # seen at the first advance after the start
    assert ended["O-hana"] == D1 + timedelta(days=7)


def test_advancing_twice_at_the_same_time_changes_nothing(duck_engine, config) -> None:
    journey_shop().load(duck_engine)
    plan(duck_engine, config, [Window(D0, D1)], now=D1)
    advance(duck_engine, config, D1)
    with duck_engine.connect() as conn:
        before = conn.execute(sa.text("select * from journey_instances order by 1")).all()
        queued = conn.execute(sa.text("select count(*) from followup_outbox")).scalar()
    advance(duck_engine, config, D1)
    with duck_engine.connect() as conn:
        assert conn.execute(sa.text("select * from journey_instances order by 1")).all() == before
        assert conn.execute(sa.text("select count(*) from followup_outbox")).scalar() == queued
