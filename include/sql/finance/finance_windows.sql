-- One row per window the finance step ran for, with the as-of its items were decided at. Other
-- windows whose items this run re-decided now stand at least as of this window's end (never more: a
-- re-run of a window whose own as-of moved on must not move theirs); counts are kept current.
-- Binds: :window_start, :window_end, :as_of.
drop table if exists _fin_touched_windows
;
create temporary table _fin_touched_windows as
select window_start from _fin_orders
union
select window_start from _fin_payouts
union
select window_start from _fin_bank
;
update finance_windows
set as_of = cast(:window_end as timestamp with time zone)
where window_start <> :window_start
  and as_of < :window_end
  and window_start in (select window_start from _fin_touched_windows)
;
delete from finance_windows
where window_start = :window_start
;
insert into finance_windows (
    window_start, window_end, as_of, settlement_lines, orders, payouts, bank_lines, open_exceptions
)
select
    cast(:window_start as timestamp with time zone),
    cast(:window_end as timestamp with time zone),
    cast(:as_of as timestamp with time zone),
    0, 0, 0, 0, 0
union all
select
    t.window_start,
    t.window_start + interval '1 day',
    cast(:window_end as timestamp with time zone),
    0, 0, 0, 0, 0
from _fin_touched_windows as t
where t.window_start <> :window_start
  and not exists (select 1 from finance_windows as f where f.window_start = t.window_start)
;
update finance_windows
set
    settlement_lines = (
        select count(*) from finance_matches as m
        where m.item_type = 'settlement_line' and m.window_start = finance_windows.window_start
    ),
    orders = (
        select count(*) from finance_matches as m
        where m.item_type = 'order' and m.window_start = finance_windows.window_start
    ),
    payouts = (
        select count(*) from finance_matches as m
        where m.item_type = 'payout' and m.window_start = finance_windows.window_start
    ),
    bank_lines = (
        select count(*) from finance_matches as m
        where m.item_type = 'bank_line' and m.window_start = finance_windows.window_start
    ),
    open_exceptions = (
        select count(*) from exceptions as e
        where e.status = 'open' and e.window_start = finance_windows.window_start
    )
where window_start = :window_start
   or window_start in (select window_start from _fin_touched_windows)
