-- R8: every initial order in the scope, tied to its purchase and, when there is one, to the sale.
-- Failed attempts are reported apart from sales; the score is how sure the person match is.
-- Needs _purchase_assign.
delete from attempt_links
where order_id in (select order_id from _purchase_orders)
;
insert into attempt_links (
    order_id, purchase_id, person_id, customer_id, role, linked_order_id, score, reason, created_at
)
with

final as (
    select
        order_id,
        purchase_id,
        person_id,
        customer_id,
        role,
        case when role = 'sale' then null else sale_order_id end as linked_order_id,
        case
            when customer_id = coalesce(sale_customer_id, first_customer_id) then 1.0
            else identity_score
        end as score,
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
