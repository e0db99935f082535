-- A customer charged twice for one purchase, with the amount to refund: a second paid order of the
-- purchase (all of it), or a second successful charge on one order (all but the first charge).
-- Orders already refunded are left out: there is nothing left to give back. Needs _purchase_assign.
delete from duplicate_charges
where order_id in (select order_id from _purchase_orders)
;
insert into duplicate_charges (
    order_id, purchase_id, original_order_id, amount_minor, currency, charged_at, reason
)
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
