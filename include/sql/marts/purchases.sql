-- R8: one row per purchase, converted or still open; a purchase that converted counts once.
-- Replaces the purchases of every order in the linking scope. Needs _purchase_assign. Binds: :as_of.
delete from purchases
where purchase_id in (
    select l.purchase_id
    from attempt_links as l
    inner join _purchase_orders as o
        on o.order_id = l.order_id
)
or purchase_id in (select purchase_id from _purchase_assign)
;
insert into purchases (
    purchase_id, person_id, product_id, first_attempt_at, converted_order_id, converted_at,
    failed_attempts, orders, duplicate_sales, status, as_of
)
with

final as (
    select
        purchase_id,
        min(person_id) as person_id,
        min(product_id) as product_id,
        min(first_attempt_at) as first_attempt_at,
        max(sale_order_id) as converted_order_id,
        max(sale_at) as converted_at,
        cast(sum(case when role = 'failed_attempt' then 1 else 0 end) as integer) as failed_attempts,
        cast(count(*) as integer) as orders,
        cast(sum(case when role = 'duplicate_sale' then 1 else 0 end) as integer) as duplicate_sales,
        case when max(sale_order_id) is null then 'open' else 'converted' end as status,
        cast(:as_of as timestamp with time zone) as as_of
    from _purchase_assign
    group by purchase_id
)

select * from final
