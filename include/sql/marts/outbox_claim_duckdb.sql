-- Claim a batch of due rows for one dispatcher (DuckDB: one writing process, so a transaction is
-- enough). Binds: :worker_id, :lease_until, :now, :batch_size.
with

due as (
    select outbox_id
    from followup_outbox
    where status = 'pending'
      and next_attempt_at <= :now
    order by next_attempt_at, outbox_id
    limit :batch_size
)

update followup_outbox as o
set
    status = 'sending',
    claimed_by = :worker_id,
    claimed_until = :lease_until,
    attempts = o.attempts + 1
from due
where o.outbox_id = due.outbox_id
  and o.status = 'pending'
returning o.outbox_id, o.attempts
