-- R8, incremental: the customer records whose linking inputs are new or changed since the last run.
-- An input is new when the as-of passed it (an order created, an attempt made in [:since, :as_of)) and
-- changed when its row was updated after what the last run had seen (:orders_seen, :attempts_seen,
-- :customers_seen, each already moved back by the commerce pull's overlap). Only orders of the horizon
-- [:horizon_start, :as_of) count. On a first run or new settings :since is the horizon start: all of it.
drop table if exists _link_touched
;
create temporary table _link_touched as
with

new_orders as (
    select customer_id
    from orders
    where created_at >= :horizon_start
      and created_at < :as_of
      and (created_at >= :since or updated_at > :orders_seen)
),

changed_attempts as (
    select order_id
    from payment_attempts
    where attempted_at < :as_of
      and (attempted_at >= :since or updated_at > :attempts_seen)
),

new_attempts as (
    select o.customer_id
    from orders as o
    inner join changed_attempts as a
        on a.order_id = o.order_id
    where o.created_at >= :horizon_start
      and o.created_at < :as_of
),

changed_customers as (
    select customer_id
    from customers
    where updated_at > :customers_seen
),

final as (
    select customer_id from new_orders
    union
    select customer_id from new_attempts
    union
    select customer_id from changed_customers
)

select * from final
