"""Drain the outbox: claim a batch, send each message, record the outcome at once.

Guarantees (PostgreSQL and DuckDB):
- A row is sent only by the dispatcher that claimed it (`for update skip locked` on PostgreSQL, a
  single writing process on DuckDB); its outcome is recorded only while that claim holds.
- Every message of a row carries the same Message-ID / Idempotency-Key, on every attempt.
- The window left: a message accepted by the server, then the dispatcher dies (or loses the database)
  before its `sent` commit. The claim expires, the row is sent again (same Message-ID /
  Idempotency-Key): at-least-once, never lost. A single send that outlives its lease (longer than the
  margin below) could likewise be taken over; the margin exceeds the channels' timeouts.
- A transient failure goes back to pending with exponential backoff; after `max_attempts`, or at a
  permanent failure, the row is dead-lettered. Pending rows whose customer has paid are cancelled.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine

from payrecon.followups import outbox
from payrecon.followups.channels.base import Channel, PermanentSendError, TransientSendError
from payrecon.followups.compose import compose
from payrecon.followups.config import FollowupConfig

log = logging.getLogger(__name__)

# stop claiming sends this long before the lease ends: longer than one send can take (SMTP timeout 30 s)
LEASE_MARGIN = timedelta(seconds=60)


def wall_clock() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class DispatchResult:
    worker_id: str
    cancelled: int = 0
    reclaimed: int = 0
    claimed: int = 0
    sent: Counter = field(default_factory=Counter)  # by event kind
    retried: int = 0
    dead: int = 0
    released: int = 0
    lost_claims: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "worker_id": self.worker_id,
            "cancelled": self.cancelled,
            "reclaimed": self.reclaimed,
            "claimed": self.claimed,
            "sent": dict(sorted(self.sent.items())),
            "sent_total": sum(self.sent.values()),
            "retried": self.retried,
            "dead": self.dead,
            "released": self.released,
            "lost_claims": self.lost_claims,
        }


class Dispatcher:
    """One dispatcher run. `now` (due-ness, backoff, timestamps) is passed in; leases use `clock`."""

    def __init__(
        self,
        engine: Engine,
        config: FollowupConfig,
        channels: Mapping[str, Channel],
        worker_id: str | None = None,
        clock: Callable[[], datetime] = wall_clock,
        templates_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.channels = channels
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock
        self.templates_dir = templates_dir
        self.delivery = config.delivery
        self.conn: Connection | None = None

    def run(self, now: datetime | None = None, max_batches: int | None = None) -> DispatchResult:
        now = now or self.clock()
        result = DispatchResult(self.worker_id)
        self.conn = self.engine.connect()
        result.cancelled = outbox.cancel_paid(self.conn, now)
        result.reclaimed = outbox.reclaim_expired(self.conn, self.clock(), now, self.delivery.max_attempts)
        down: dict[str, str] = {}
        batches = 0
        try:
            while max_batches is None or batches < max_batches:
                lease_until = self.clock() + timedelta(seconds=self.delivery.lease_seconds)
                claimed = outbox.claim(self.conn, self.worker_id, now, lease_until, self.delivery.batch_size)
                if not claimed:
                    break
                batches += 1
                result.claimed += len(claimed)
                released = result.released
                self._send_batch(claimed, now, lease_until, down, result)
                if result.released > released:
                    break  # the lease ran short: stop here, the next run takes the rest
        finally:
            self.conn.close()
            for channel in self.channels.values():
                channel.close()
        log.info("dispatch %s", result.as_dict())
        return result

    def _send_batch(
        self, claimed: list[outbox.Claimed], now: datetime, lease_until: datetime, down: dict[str, str],
        result: DispatchResult,
    ) -> None:
        attempts = {c.outbox_id: c.attempts for c in claimed}
        rows = outbox.claimed_context(self.conn, self.worker_id)
        margin = min(LEASE_MARGIN, timedelta(seconds=self.delivery.lease_seconds) / 2)
        for index, row in enumerate(rows):
            if self.clock() > lease_until - margin:
                # the claim is about to lapse: give the rest back rather than risk a second sender
                for rest in rows[index:]:
                    result.released += outbox.release(self.conn, rest["outbox_id"], self.worker_id)
                return
            self._send_one(row, attempts.get(row["outbox_id"], int(row["attempts"])), now, down, result)

    def _send_one(self, row: dict, attempts: int, now: datetime, down: dict[str, str], result: DispatchResult) -> None:
        outbox_id, channel_name = row["outbox_id"], row["channel"]
        try:
            message = compose(row, self.config, self.templates_dir)
        except Exception as exc:  # noqa: BLE001 - any render failure is a permanent, recorded failure
            self._failed(outbox_id, attempts, now, f"cannot render: {exc!r}", True, result)
            return
        channel = self.channels.get(channel_name)
        if channel is None:
            self._failed(outbox_id, attempts, now, f"no channel {channel_name!r}", True, result)
            return
        if channel_name in down:  # not tried: the attempt is given back, the row waits like the first one
            self._failed(outbox_id, attempts - 1, now, f"not tried, channel down: {down[channel_name]}", False,
                         result, tried=False)
            return
        try:
            provider_ref = channel.send(message)
        except PermanentSendError as exc:
            self._failed(outbox_id, attempts, now, str(exc), True, result)
            return
        except TransientSendError as exc:
            if exc.channel_down:
                down[channel_name] = str(exc)
            self._failed(outbox_id, attempts, now, str(exc), False, result)
            return
        if outbox.mark_sent(self.conn, outbox_id, self.worker_id, now, provider_ref):
            result.sent[row["event_kind"]] += 1
        else:
            result.lost_claims += 1
            log.warning("outbox %s was sent but its claim had been taken over; outcome not recorded", outbox_id)

    def _failed(
        self, outbox_id: str, attempts: int, now: datetime, error: str, permanent: bool, result: DispatchResult,
        tried: bool = True,
    ) -> None:
        dead = permanent or (tried and attempts >= self.delivery.max_attempts)
        next_at = now + outbox.backoff(max(attempts, 1), self.delivery.backoff_seconds,
                                       self.delivery.backoff_max_seconds)
        if outbox.mark_failed(self.conn, outbox_id, self.worker_id, now, next_at, dead, error, tried):
            if dead:
                result.dead += 1
                log.warning("outbox %s dead after %d attempt(s): %s", outbox_id, attempts, error)
            else:
                result.retried += 1
        else:
            result.lost_claims += 1


def dispatch(
    engine: Engine,
    config: FollowupConfig,
    channels: Mapping[str, Channel],
    now: datetime | None = None,
    worker_id: str | None = None,
    max_batches: int | None = None,
) -> DispatchResult:
    return Dispatcher(engine, config, channels, worker_id).run(now, max_batches)
