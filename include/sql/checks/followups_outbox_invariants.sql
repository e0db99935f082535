-- Invariants of the outbox: every row has a known status, a sent row has its sent_at, a finished row
-- its done_at, and no row is claimed while pending. Returns the number of violating rows (0 is good).
select count(*)
from followup_outbox
where status not in ('pending', 'sending', 'sent', 'dead', 'cancelled', 'skipped', 'suppressed')
   or (status = 'sent' and sent_at is null)
   or (status in ('sent', 'dead', 'cancelled', 'skipped', 'suppressed') and done_at is null)
   or (status = 'pending' and claimed_until is not null)
