-- Apply the audit log of hand-made resolutions (exception_resolutions, append-only) to the exceptions
-- and to the state of the items they hold. The latest decisive entry of an exception wins
-- (force_match, write_off, dispute, refund; reopen clears it); the latest entry naming an owner sets
-- the owner. A write-off resolution adds a write-off row; one superseded later gets a reversal row.
-- Open-exception counts of the windows follow.
-- Everything here is derived from the log, so re-running any window keeps every resolution.
-- Binds: none.
drop table if exists _fin_latest_resolution
;
create temporary table _fin_latest_resolution as
select *
from (
    select
        r.*,
        row_number() over (
            partition by r.exception_id order by r.recorded_at desc, r.resolution_id desc
        ) as rn
    from exception_resolutions as r
    where r.action in ('force_match', 'write_off', 'dispute', 'refund', 'reopen')
) as ranked
where rn = 1
;
drop table if exists _fin_latest_owner
;
create temporary table _fin_latest_owner as
select *
from (
    select
        r.exception_id,
        r.owner,
        row_number() over (
            partition by r.exception_id order by r.recorded_at desc, r.resolution_id desc
        ) as rn
    from exception_resolutions as r
    where r.owner is not null
      and r.owner <> ''
) as ranked
where rn = 1
;
update exceptions
set
    status = case when l.action = 'reopen' then 'open' else 'resolved' end,
    resolution = case when l.action = 'reopen' then null else l.action end,
    resolution_note = case when l.action = 'reopen' then null else l.note end,
    resolved_by = case when l.action = 'reopen' then null else l.actor end,
    resolved_at = case when l.action = 'reopen' then null else l.recorded_at end,
    resolution_id = case when l.action = 'reopen' then null else l.resolution_id end
from _fin_latest_resolution as l
where l.exception_id = exceptions.exception_id
;
update exceptions
set owner = o.owner
from _fin_latest_owner as o
where o.exception_id = exceptions.exception_id
;
update finance_matches
set state = case
        when e.status = 'resolved' and e.resolution = 'force_match' then 'force_matched'
        when e.status = 'resolved' and e.resolution = 'write_off' then 'written_off'
        when e.status = 'resolved' and e.resolution = 'dispute' then 'disputed'
        when e.status = 'resolved' and e.resolution = 'refund' then 'refunded'
        else finance_matches.decided_state
    end
from exceptions as e
where e.exception_id = finance_matches.exception_id
;
insert into write_offs (
    write_off_id, source, reason, item_type, item_id, window_start, gateway, currency, amount_minor,
    exception_id, resolution_id, detail
)
select
    'resolution:' || r.resolution_id as write_off_id,
    'resolution' as source,
    e.kind as reason,
    e.item_type,
    e.item_id,
    e.window_start,
    e.gateway,
    e.currency,
    coalesce(r.amount_minor, e.amount_minor, 0) as amount_minor,
    e.exception_id,
    r.resolution_id,
    'written off by ' || r.actor || coalesce(': ' || r.note, '') as detail
from exception_resolutions as r
inner join exceptions as e
    on e.exception_id = r.exception_id
where r.action = 'write_off'
  and not exists (
        select 1
        from write_offs as w
        where w.write_off_id = 'resolution:' || r.resolution_id
    )
;
insert into write_offs (
    write_off_id, source, reason, item_type, item_id, window_start, gateway, currency, amount_minor,
    exception_id, resolution_id, detail
)
select
    'reversal:' || w.resolution_id as write_off_id,
    'resolution' as source,
    'reversal' as reason,
    w.item_type,
    w.item_id,
    w.window_start,
    w.gateway,
    w.currency,
    -w.amount_minor as amount_minor,
    w.exception_id,
    w.resolution_id,
    'superseded by a later resolution' as detail
from write_offs as w
inner join _fin_latest_resolution as l
    on l.exception_id = w.exception_id
where w.source = 'resolution'
  and w.reason <> 'reversal'
  and l.resolution_id <> w.resolution_id
  and not exists (
        select 1
        from write_offs as v
        where v.write_off_id = 'reversal:' || w.resolution_id
    )
;
update finance_windows
set open_exceptions = (
    select count(*)
    from exceptions as e
    where e.status = 'open'
      and e.window_start = finance_windows.window_start
)
