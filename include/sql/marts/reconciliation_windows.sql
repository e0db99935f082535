-- One row per reconciled window, with the as-of its states were decided at, and item counts kept
-- current for every window whose items this run re-decided (a late edit moves an order's state).
-- Binds: :window_start, :window_end, :as_of.
delete from reconciliation_windows
where window_start = :window_start
;
insert into reconciliation_windows (window_start, window_end, as_of, settlement_lines, orders)
values (
    cast(:window_start as timestamp with time zone),
    cast(:window_end as timestamp with time zone),
    cast(:as_of as timestamp with time zone),
    0,
    0
)
;
update reconciliation_windows
set
    settlement_lines = (
        select count(*)
        from reconciliation_results as r
        where r.item_type = 'settlement_line'
          and r.window_start = reconciliation_windows.window_start
    ),
    orders = (
        select count(*)
        from reconciliation_results as r
        where r.item_type = 'order'
          and r.window_start = reconciliation_windows.window_start
    )
where window_start = :window_start
   or window_start in (select distinct window_start from _orders_to_evaluate)
