-- R8: every initial order linked this run, tied to its purchase and, when there is one, to the sale.
-- Failed attempts are reported apart from sales; the score is how sure the person match is.
-- Only rows that are new or different are written. Needs _purchase_assign.
drop table if exists _links_changed
;
create temporary table _links_changed as
with

final as (
    select
        order_id,
        purchase_id,
        person_id,
        customer_id,
        role,
        case when role = 'sale' then null else sale_order_id end as linked_order_id,
        cast(
            case
                when customer_id = coalesce(sale_customer_id, first_customer_id) then 1.0
                else identity_score
            end as numeric(6, 4)
        ) as score,
        case
            when role = 'sale' then 'first paid order of the purchase'
            when role = 'duplicate_sale' then 'paid again after sale ' || sale_order_id
            when sale_order_id is null then 'failed attempt; no sale yet'
            else 'failed attempt before sale ' || sale_order_id
        end
        || case
            when customer_id = coalesce(sale_customer_id, first_customer_id) then '; same customer record'
            else '; other customer record: ' || identity_reason
        end as reason,
        created_at
    from _purchase_assign
)

select * from final
except
select
    l.order_id,
    l.purchase_id,
    l.person_id,
    l.customer_id,
    l.role,
    l.linked_order_id,
    l.score,
    l.reason,
    l.created_at
from attempt_links as l
inner join _purchase_orders as o
    on o.order_id = l.order_id
;
delete from attempt_links
where order_id in (select order_id from _links_changed)
;
insert into attempt_links (
    order_id, purchase_id, person_id, customer_id, role, linked_order_id, score, reason, created_at
)
select
    order_id,
    purchase_id,
    person_id,
    customer_id,
    role,
    linked_order_id,
    score,
    reason,
    created_at
from _links_changed
