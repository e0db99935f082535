-- One row per reconciled window, with the as-of its states were decided at.
-- Binds: :window_start, :window_end, :as_of.
delete from reconciliation_windows
where window_start = :window_start
;
insert into reconciliation_windows (window_start, window_end, as_of, settlement_lines, orders)
select
    cast(:window_start as timestamp with time zone) as window_start,
    cast(:window_end as timestamp with time zone) as window_end,
    cast(:as_of as timestamp with time zone) as as_of,
    (select count(*) from reconciliation_results
     where item_type = 'settlement_line' and window_start = :window_start) as settlement_lines,
    (select count(*) from reconciliation_results
     where item_type = 'order' and window_start = :window_start) as orders
