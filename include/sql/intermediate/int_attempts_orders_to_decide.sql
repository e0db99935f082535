-- Which orders a window's rules decide: orders created in the window, orders edited in it (an
-- auto-charge switched back by a person, R7), and older orders with a payment attempt in it.
-- Binds: :window_start, :window_end.
drop table if exists _rules_orders
;
create temporary table _rules_orders as
with

created_or_edited as (
    select order_id
    from orders
    where (created_at >= :window_start and created_at < :window_end)
       or (updated_at >= :window_start and updated_at < :window_end and created_at < :window_end)
),

attempted as (
    select a.order_id
    from payment_attempts as a
    inner join orders as o
        on o.order_id = a.order_id
    where o.created_at < :window_end
      and a.attempted_at < :window_end
      and (
          (a.attempted_at >= :window_start)
          or (a.updated_at >= :window_start and a.updated_at < :window_end)
      )
),

final as (
    select order_id from created_or_edited
    union
    select order_id from attempted
)

select * from final
