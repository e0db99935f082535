"""A dispatcher in its own process, for the fault tests: optionally SIGKILLs itself mid-batch.

usage: python dispatcher_proc.py URL SMTP_PORT NOW_ISO WORKER_ID MODE N LEASE_SECONDS BATCH_SIZE
MODE: `none`; `after_mark` (killed right after the Nth row is recorded as sent); `after_send` (killed
after the Nth message was accepted by the SMTP server but before it is recorded: the known window).
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime


def main(argv: list[str]) -> int:
    url, port, now_iso, worker_id, mode, n, lease, batch = argv[1:9]
    from followup_shop import welcome_only

    from payrecon.followups import outbox
    from payrecon.followups.channels import build_channels
    from payrecon.followups.channels.email import SmtpChannel, SmtpSettings
    from payrecon.followups.config import load_config
    from payrecon.followups.dispatcher import Dispatcher
    from payrecon.warehouse.engine import warehouse

    config = welcome_only(load_config(), lease_seconds=int(lease), batch_size=int(batch))
    count = {"n": 0}

    def kill_at_n() -> None:
        count["n"] += 1
        if count["n"] == int(n):
            os.kill(os.getpid(), signal.SIGKILL)

    if mode == "after_mark":
        original_mark = outbox.mark_sent

        def mark_then_die(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            touched = original_mark(*args, **kwargs)
            kill_at_n()
            return touched

        outbox.mark_sent = mark_then_die
    elif mode == "after_send":
        original_send = SmtpChannel.send

        def send_then_die(self, message):  # noqa: ANN001, ANN202
            ref = original_send(self, message)
            kill_at_n()
            return ref

        SmtpChannel.send = send_then_die

    smtp = SmtpSettings(host="127.0.0.1", port=int(port), timeout=5)
    channels = build_channels(smtp, {}, config.merchant.from_email)
    with warehouse(url) as engine:
        result = Dispatcher(engine, config, channels, worker_id=worker_id).run(now=datetime.fromisoformat(now_iso))
    print(sum(result.sent.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
