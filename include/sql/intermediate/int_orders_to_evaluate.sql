-- Which orders a window's reconciliation decides: the window's own orders, orders edited during the
-- window, and orders of earlier windows still pending. Each keeps the window it was created in.
-- Binds: :window_start, :window_end.
drop table if exists _orders_to_evaluate
;
create temporary table _orders_to_evaluate as
with

candidates as (
    select order_id
    from orders
    where (created_at >= :window_start and created_at < :window_end)
       or (updated_at >= :window_start and updated_at < :window_end and created_at < :window_end)
    union
    select item_id as order_id
    from reconciliation_results
    where item_type = 'order'
      and state = 'pending'
      and window_start < :window_start
),

final as (
    select
        o.order_id,
        cast(cast(o.created_at as date) as timestamp with time zone) as window_start
    from orders as o
    inner join candidates as c
        on c.order_id = o.order_id
)

select * from final
