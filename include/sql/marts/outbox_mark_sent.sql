-- Record a delivery, only if this dispatcher still holds the claim. Binds: :outbox_id, :worker_id,
-- :now, :provider_ref.
update followup_outbox
set
    status = 'sent',
    sent_at = cast(:now as timestamp with time zone),
    done_at = cast(:now as timestamp with time zone),
    provider_ref = :provider_ref,
    last_error = null,
    claimed_until = null
where outbox_id = :outbox_id
  and status = 'sending'
  and claimed_by = :worker_id
