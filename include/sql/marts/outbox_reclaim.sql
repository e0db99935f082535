-- Rows whose claim expired (the dispatcher died, or overran its lease) go back to pending, or to the
-- dead letters when their attempts are used up. This is the at-least-once edge: a row whose message
-- was accepted just before its dispatcher died is sent again, with the same Message-ID /
-- Idempotency-Key. Binds: :lease_now (wall clock), :now, :max_attempts.
update followup_outbox
set
    status = case when attempts >= :max_attempts then 'dead' else 'pending' end,
    last_error = 'claim by ' || coalesce(claimed_by, '?') || ' expired before the outcome was recorded',
    done_at = case when attempts >= :max_attempts then cast(:now as timestamp with time zone) end,
    next_attempt_at = cast(:now as timestamp with time zone),
    claimed_until = null
where status = 'sending'
  and claimed_until < :lease_now
