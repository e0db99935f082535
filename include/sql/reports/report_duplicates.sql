-- Duplicate charges to refund (R8): a second paid order of one purchase, or a second successful
-- charge on one order, not refunded yet, charged before the period's end; with age in days.
-- Binds: :period_start, :period_end.
select
    d.order_id,
    d.original_order_id,
    d.purchase_id,
    o.customer_id,
    d.currency,
    d.amount_minor,
    d.charged_at,
    cast(cast(:period_end as date) - cast(d.charged_at as date) as bigint) as age_days,
    d.charged_at >= :period_start as is_new,
    d.reason
from duplicate_charges as d
left join orders as o
    on o.order_id = d.order_id
where d.charged_at < :period_end
order by d.charged_at, d.order_id
