-- Record a failed send: back to pending at :next_attempt_at (exponential backoff), or to the dead
-- letters when :dead. :uncount = 1 gives the attempt back (the channel was already known to be down in
-- this run, so the message was never tried). Binds: :outbox_id, :worker_id, :now, :next_attempt_at,
-- :dead, :uncount, :error.
update followup_outbox
set
    status = case when cast(:dead as boolean) then 'dead' else 'pending' end,
    next_attempt_at = cast(:next_attempt_at as timestamp with time zone),
    done_at = case when cast(:dead as boolean) then cast(:now as timestamp with time zone) end,
    attempts = attempts - cast(:uncount as integer),
    last_error = :error,
    claimed_until = null
where outbox_id = :outbox_id
  and status = 'sending'
  and claimed_by = :worker_id
