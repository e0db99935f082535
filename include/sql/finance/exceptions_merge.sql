-- Replace the exceptions of everything this run decided with what it raised now. An exception still
-- raised keeps its row: its owner, its resolution and the as-of it was aged to survive a re-run; one no
-- longer raised (the facts changed) goes, while its resolutions stay in the audit log.
-- Binds: none beyond the temporary tables of this run.
delete from exceptions
where exists (
        select 1
        from _fin_exception_scope as s
        where s.item_type = exceptions.item_type
          and s.item_id = exceptions.item_id
    )
  and exception_id not in (select exception_id from _fin_new_exceptions)
;
insert into exceptions (
    exception_id, kind, item_type, item_id, window_start, gateway, currency, amount_minor, detail,
    opened_at, aged_as_of, age_days, age_bucket, owner, status
)
select
    exception_id,
    kind,
    item_type,
    item_id,
    window_start,
    gateway,
    currency,
    amount_minor,
    detail,
    opened_at,
    aged_as_of,
    age_days,
    age_bucket,
    owner,
    status
from _fin_new_exceptions
on conflict (exception_id) do update set
    kind = excluded.kind,
    item_type = excluded.item_type,
    item_id = excluded.item_id,
    window_start = excluded.window_start,
    gateway = excluded.gateway,
    currency = excluded.currency,
    amount_minor = excluded.amount_minor,
    detail = excluded.detail,
    opened_at = excluded.opened_at,
    aged_as_of = greatest(exceptions.aged_as_of, excluded.aged_as_of)
