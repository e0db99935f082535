-- Which orders a window's reconciliation decides: the window's own orders, orders edited during the
-- window, and orders of earlier windows still pending. Each keeps the window it was created in.
-- Each order is decided as of its own window's as-of, moved forward to this run's window end: the
-- as-of only ever grows, so re-running any window in any order gives the same states (R15).
-- Binds: :window_start, :window_end, :grace.
drop table if exists _orders_to_evaluate
;
create temporary table _orders_to_evaluate as
with

still_pending as (
    select item_id as order_id
    from reconciliation_results
    where item_type = 'order'
      and state = 'pending'
      and window_start < :window_start
),

with_window as (
    -- one pass over orders: the window's own, the ones edited in it, the earlier ones still pending
    select
        o.order_id,
        o.status,
        cast(cast(o.created_at as date) as timestamp with time zone) as window_start
    from orders as o
    where (o.created_at >= :window_start and o.created_at < :window_end)
       or (o.updated_at >= :window_start and o.updated_at < :window_end and o.created_at < :window_end)
       or o.order_id in (select order_id from still_pending)
),

final as (
    select
        w.order_id,
        w.status,
        w.window_start,
        greatest(coalesce(rw.as_of, :window_end), :window_end) as as_of,
        greatest(coalesce(rw.as_of, :window_end), :window_end) - :grace as pending_cutoff
    from with_window as w
    left join reconciliation_windows as rw
        on rw.window_start = w.window_start
)

select * from final
