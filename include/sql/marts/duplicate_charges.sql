-- A customer charged twice for one purchase, with the amount to refund: a second paid order of the
-- purchase (all of it), or a second successful charge on one order (all but the first charge).
-- Orders already refunded are left out: there is nothing left to give back. For the orders linked this
-- run, only rows that are new, different or no longer due are written. Needs _purchase_assign.
drop table if exists _duplicates_new
;
create temporary table _duplicates_new as
with

second_orders as (
    select
        order_id,
        purchase_id,
        sale_order_id as original_order_id,
        charged_minor as amount_minor,
        currency,
        first_success_at as charged_at,
        'second paid order for one purchase (sale ' || sale_order_id || ')' as reason
    from _purchase_assign
    where role = 'duplicate_sale'
      and status <> 'refunded'
),

second_charges as (
    select
        order_id,
        purchase_id,
        order_id as original_order_id,
        charged_minor - first_charge_minor as amount_minor,
        currency,
        first_success_at as charged_at,
        'charged ' || cast(charges as varchar) || ' times on one order' as reason
    from _purchase_assign
    where role = 'sale'
      and charges > 1
      and status <> 'refunded'
),

final as (
    select * from second_orders
    union all
    select * from second_charges
)

select * from final
;
drop table if exists _duplicates_changed
;
create temporary table _duplicates_changed as
select
    order_id,
    purchase_id,
    original_order_id,
    amount_minor,
    currency,
    charged_at,
    reason
from _duplicates_new
except
select
    d.order_id,
    d.purchase_id,
    d.original_order_id,
    d.amount_minor,
    d.currency,
    d.charged_at,
    d.reason
from duplicate_charges as d
inner join _purchase_orders as o
    on o.order_id = d.order_id
;
-- one `in` per delete and `not exists`: hash (anti-)joins on PostgreSQL, never a per-row rescan
delete from duplicate_charges
where order_id in (select order_id from _duplicates_changed)
;
delete from duplicate_charges
where order_id in (
    select o.order_id
    from _purchase_orders as o
    where not exists (select 1 from _duplicates_new as n where n.order_id = o.order_id)
)
;
insert into duplicate_charges (
    order_id, purchase_id, original_order_id, amount_minor, currency, charged_at, reason
)
select
    order_id,
    purchase_id,
    original_order_id,
    amount_minor,
    currency,
    charged_at,
    reason
from _duplicates_changed
