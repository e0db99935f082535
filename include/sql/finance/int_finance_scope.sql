-- What one finance run decides, and as of when (finance issue 9).
-- Orders: the window's own orders, orders edited during it, orders still pending from earlier windows,
-- and the orders of every charge settled by a line of this window, widened to the orders sharing their
-- charges (a combined invoice). Each is decided as of its window's finance as-of moved forward to this
-- window's end: as-ofs only grow, so re-running a window gives the same rows (R15).
-- Edges: the succeeded, charged attempts of those orders, and of the window's charges even when their
-- order has not been pulled yet (the line is then judged on the attempts, as the foundation does; the
-- order is decided when it arrives). A charge shared by several orders forms one
-- many-to-one group `charge:<id>`; otherwise an order's charges form its group `order:<id>` (one order
-- paid by one or several captures).
-- Binds: :window_start, :window_end.
drop table if exists _fin_orders
;
create temporary table _fin_orders as
with

window_charges as (
    select distinct
        charge_id
    from settlement_lines
    where window_start = :window_start
      and line_type = 'charge'
      and charge_id is not null
),

candidates as (
    select order_id
    from orders
    where (created_at >= :window_start and created_at < :window_end)
       or (updated_at >= :window_start and updated_at < :window_end and created_at < :window_end)
    union
    select item_id as order_id
    from finance_matches
    where item_type = 'order'
      and decided_state = 'pending'
      and window_start < :window_start
    union
    select a.order_id
    from payment_attempts as a
    inner join window_charges as w
        on w.charge_id = a.gateway_charge_id
    where a.status = 'succeeded'
),

candidate_charges as (
    select distinct
        a.gateway_charge_id as charge_id
    from payment_attempts as a
    inner join candidates as c
        on c.order_id = a.order_id
    where a.status = 'succeeded'
      and a.gateway_charge_id is not null
),

mates as (
    select a.order_id
    from payment_attempts as a
    inner join candidate_charges as c
        on c.charge_id = a.gateway_charge_id
    where a.status = 'succeeded'
),

scoped as (
    select order_id from candidates
    union
    select order_id from mates
),

final as (
    select
        o.order_id,
        r.window_start,
        greatest(coalesce(fw.as_of, :window_end), :window_end) as as_of
    from orders as o
    inner join scoped as s
        on s.order_id = o.order_id
    inner join reconciliation_results as r
        on r.item_type = 'order'
       and r.item_id = o.order_id
    left join finance_windows as fw
        on fw.window_start = r.window_start
)

select * from final
;
drop table if exists _fin_edges
;
create temporary table _fin_edges as
with

scoped_attempts as (
    select a.*
    from payment_attempts as a
    inner join _fin_orders as o
        on o.order_id = a.order_id
    where a.status = 'succeeded'
      and a.gateway_charge_id is not null
    union
    select a.*
    from payment_attempts as a
    where a.status = 'succeeded'
      and a.gateway_charge_id in (
        select charge_id
        from settlement_lines
        where window_start = :window_start
          and line_type = 'charge'
          and charge_id is not null
      )
),

edges as (
    select
        a.order_id,
        a.gateway_charge_id as charge_id,
        a.gateway,
        a.amount_minor,
        a.currency,
        a.attempted_at,
        count(*) over (partition by a.gateway_charge_id) as orders_on_charge
    from scoped_attempts as a
),

grouped as (
    select
        e.*,
        case
            when e.orders_on_charge > 1 then 'charge:' || e.charge_id
            else 'order:' || e.order_id
        end as group_id
    from edges as e
),

final as (
    -- an order whose charges fall into more than one group is a many-to-many tangle
    select
        g.*,
        min(g.group_id) over (partition by g.order_id) <> max(g.group_id) over (partition by g.order_id)
            as is_tangled
    from grouped as g
)

select * from final
;
drop table if exists _fin_groups
;
create temporary table _fin_groups as
select
    e.group_id,
    coalesce(max(o.as_of), cast(:window_end as timestamp with time zone)) as as_of,
    min(e.gateway) as gateway,
    count(distinct e.order_id) as n_orders,
    count(distinct e.charge_id) as n_charges,
    min(e.attempted_at) as first_charged_at,
    max(case when e.is_tangled then 1 else 0 end) as is_tangled
from _fin_edges as e
left join _fin_orders as o
    on o.order_id = e.order_id
group by e.group_id
;
drop table if exists _fin_exception_scope
;
create temporary table _fin_exception_scope as
select
    cast('match_group' as text) as item_type,
    group_id as item_id
from _fin_groups
union all
select
    'order' as item_type,
    order_id as item_id
from _fin_orders
union all
select
    'settlement_line' as item_type,
    line_id as item_id
from settlement_lines
where window_start = :window_start
;
drop table if exists _fin_new_exceptions
;
create temporary table _fin_new_exceptions as
select *
from exceptions
where 1 = 0
