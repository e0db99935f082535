-- Give back a claimed row that was never tried (the batch stopped early): its attempt does not count.
-- Binds: :outbox_id, :worker_id.
update followup_outbox
set
    status = 'pending',
    attempts = attempts - 1,
    claimed_until = null
where outbox_id = :outbox_id
  and status = 'sending'
  and claimed_by = :worker_id
