-- R8: group one person's orders of one product into purchases. An order starts a new purchase when
-- it comes more than :window_days after the previous one, or when an earlier order of the chain was
-- paid in between (the purchase was over) -- unless it is itself paid within :duplicate_minutes of
-- that payment: then it is the same purchase bought twice (a double submit), a duplicate sale.
-- In a purchase, the first paid order is the sale, later paid ones duplicate sales, the rest failed
-- attempts. Most chains hold one order, which is a purchase of its own: only longer chains go through
-- the windows below. Needs _purchase_orders. Binds: :window_days, :duplicate_minutes.
drop table if exists _purchase_assign
;
create temporary table _purchase_assign as
with

-- chains of more than one order, found by a grouping: a count over a window of every order costs
-- a sort of all of them, and most chains are a single order
long_chains as (
    select
        person_id,
        product_id
    from _purchase_orders
    group by person_id, product_id
    having count(*) > 1
),

single as (
    select o.*
    from _purchase_orders as o
    left join long_chains as l
        on l.person_id = o.person_id
       and l.product_id = o.product_id
    where l.person_id is null
),

chain as (
    select
        o.*,
        lag(o.created_at) over (
            partition by o.person_id, o.product_id order by o.created_at, o.order_id
        ) as prev_created_at
    from _purchase_orders as o
    inner join long_chains as l
        on l.person_id = o.person_id
       and l.product_id = o.product_id
),

paid_in_between as (
    select
        k.order_id,
        max(j.first_success_at) as paid_before_at
    from chain as k
    inner join chain as j
        on j.person_id = k.person_id
       and j.product_id = k.product_id
       and j.order_id <> k.order_id
       and j.first_success_at >= k.prev_created_at
       and j.first_success_at < k.created_at
    group by k.order_id
),

breaks as (
    select
        c.*,
        case
            when c.prev_created_at is null then 1
            when c.created_at > c.prev_created_at + (:window_days * interval '1 day') then 1
            when p.paid_before_at is null then 0
            when c.first_success_at is not null
                and c.created_at < p.paid_before_at + (:duplicate_minutes * interval '1 minute') then 0
            else 1
        end as is_break
    from chain as c
    left join paid_in_between as p
        on p.order_id = c.order_id
),

numbered as (
    select
        b.*,
        sum(b.is_break) over (
            partition by b.person_id, b.product_id order by b.created_at, b.order_id rows unbounded preceding
        ) as purchase_no
    from breaks as b
),

grouped as (
    select
        n.*,
        first_value(n.order_id) over (
            partition by n.person_id, n.product_id, n.purchase_no order by n.created_at, n.order_id
            rows between unbounded preceding and unbounded following
        ) as first_order_id,
        first_value(n.customer_id) over (
            partition by n.person_id, n.product_id, n.purchase_no order by n.created_at, n.order_id
            rows between unbounded preceding and unbounded following
        ) as first_customer_id
    from numbered as n
),

ranked as (
    select
        g.*,
        'pur_' || g.first_order_id as purchase_id,
        row_number() over (
            partition by g.first_order_id, g.first_success_at is null order by g.first_success_at, g.order_id
        ) as rank_paid
    from grouped as g
),

roled as (
    select
        r.*,
        case
            when r.first_success_at is null then 'failed_attempt'
            when r.rank_paid = 1 then 'sale'
            else 'duplicate_sale'
        end as role
    from ranked as r
),

chained as (
    select
        o.*,
        max(case when o.role = 'sale' then o.order_id end) over (partition by o.purchase_id) as sale_order_id,
        max(case when o.role = 'sale' then o.customer_id end) over (partition by o.purchase_id) as sale_customer_id,
        max(case when o.role = 'sale' then o.first_success_at end) over (partition by o.purchase_id) as sale_at
    from roled as o
),

final as (
    select
        order_id, customer_id, person_id, identity_score, identity_reason, product_id, status, created_at,
        first_attempt_at, first_success_at, charges, charged_minor, first_charge_minor, currency,
        purchase_id, first_customer_id, role, sale_order_id, sale_customer_id, sale_at
    from chained
    union all
    select
        order_id, customer_id, person_id, identity_score, identity_reason, product_id, status, created_at,
        first_attempt_at, first_success_at, charges, charged_minor, first_charge_minor, currency,
        'pur_' || order_id as purchase_id,
        customer_id as first_customer_id,
        case when first_success_at is null then 'failed_attempt' else 'sale' end as role,
        case when first_success_at is not null then order_id end as sale_order_id,
        case when first_success_at is not null then customer_id end as sale_customer_id,
        first_success_at as sale_at
    from single
)

select * from final
