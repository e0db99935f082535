-- R8: one row per purchase, converted or still open; a purchase that converted counts once.
-- Replaces the purchases of the orders linked this run (_purchase_orders), writing only what changed:
-- a purchase whose row is new or different, and the removal of a purchase none of them starts any
-- more. Runs before attempt_links, whose old rows name the purchases being replaced.
-- Needs _purchase_assign. Binds: :as_of (when a changed row was decided).
drop table if exists _purchases_new
;
create temporary table _purchases_new as
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
        case when max(sale_order_id) is null then 'open' else 'converted' end as status
    from _purchase_assign
    group by purchase_id
)

select * from final
;
drop table if exists _purchases_changed
;
create temporary table _purchases_changed as
select
    purchase_id,
    person_id,
    product_id,
    first_attempt_at,
    converted_order_id,
    converted_at,
    failed_attempts,
    orders,
    duplicate_sales,
    status
from _purchases_new
except
select
    p.purchase_id,
    p.person_id,
    p.product_id,
    p.first_attempt_at,
    p.converted_order_id,
    p.converted_at,
    p.failed_attempts,
    p.orders,
    p.duplicate_sales,
    p.status
from purchases as p
inner join _purchases_new as n
    on n.purchase_id = p.purchase_id
;
drop table if exists _purchases_gone
;
create temporary table _purchases_gone as
select distinct l.purchase_id
from attempt_links as l
inner join _purchase_orders as o
    on o.order_id = l.order_id
where not exists (select 1 from _purchases_new as n where n.purchase_id = l.purchase_id)
;
-- `not exists` and one `in` per delete: PostgreSQL turns them into hash (anti-)joins; a `not in` or
-- an `or` of subqueries that outgrows work_mem is rescanned once per row
delete from purchases
where purchase_id in (select purchase_id from _purchases_gone)
;
delete from purchases
where purchase_id in (select purchase_id from _purchases_changed)
;
insert into purchases (
    purchase_id, person_id, product_id, first_attempt_at, converted_order_id, converted_at,
    failed_attempts, orders, duplicate_sales, status, as_of
)
select
    purchase_id,
    person_id,
    product_id,
    first_attempt_at,
    converted_order_id,
    converted_at,
    failed_attempts,
    orders,
    duplicate_sales,
    status,
    cast(:as_of as timestamp with time zone) as as_of
from _purchases_changed
