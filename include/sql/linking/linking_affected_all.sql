-- R8: every customer record of the horizon (a 'self' key seen since :horizon_start) is resolved again:
-- the first run, and a run whose touched records are most of the horizon (then finding their key
-- neighbours and previous persons costs more than it saves, and takes nearly all of them anyway).
-- The same rows as linking_affected would give for a change of everything. Binds: :horizon_start.
drop table if exists _link_affected
;
create temporary table _link_affected as
select customer_id
from identity_keys
where key_kind = 'self'
  and seen_at >= :horizon_start
