-- Claim a batch of due rows for one dispatcher (PostgreSQL): rows locked by a concurrent dispatcher
-- are skipped, so two dispatchers never claim the same row. Counting the attempt at claim time makes
-- a message that crashes its dispatcher end in the dead letters instead of looping.
-- Binds: :worker_id, :lease_until, :now, :batch_size.
with

due as (
    select outbox_id
    from followup_outbox
    where status = 'pending'
      and next_attempt_at <= :now
    order by next_attempt_at, outbox_id
    limit :batch_size
    for update skip locked
)

update followup_outbox as o
set
    status = 'sending',
    claimed_by = :worker_id,
    claimed_until = :lease_until,
    attempts = o.attempts + 1
from due
where o.outbox_id = due.outbox_id
returning o.outbox_id, o.attempts
