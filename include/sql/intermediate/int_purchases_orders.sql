-- Initial orders in the linking scope with their person and what the gateway charged by :as_of.
-- Installments (installment_no > 1) are payments of a running plan, not attempts to buy: left out.
-- The scope is the horizon's orders of the records resolved this run (_link_affected): they hold every
-- order of every person whose purchases can change. Needs _link_persons (customer_id, person_id, score,
-- reason) for each of them. Binds: :horizon_start, :as_of.
drop table if exists _purchase_orders
;
create temporary table _purchase_orders as
with

scope_orders as (
    select
        order_id,
        customer_id,
        product_id,
        status,
        total_minor,
        currency,
        created_at
    from orders
    where created_at >= :horizon_start
      and created_at < :as_of
      and coalesce(installment_no, 1) <= 1
      and customer_id in (select customer_id from _link_affected)
),

known_attempts as (
    select
        a.order_id,
        a.attempt_no,
        a.attempt_id,
        a.attempted_at,
        a.status,
        a.amount_minor,
        a.currency
    from payment_attempts as a
    inner join scope_orders as s
        on s.order_id = a.order_id
    where a.attempted_at < :as_of
),

attempt_summary as (
    select
        order_id,
        min(attempted_at) as first_attempt_at,
        min(case when status = 'succeeded' then attempted_at end) as first_success_at,
        sum(case when status = 'succeeded' then 1 else 0 end) as charges,
        sum(case when status = 'succeeded' then amount_minor else 0 end) as charged_minor,
        max(case when status = 'succeeded' then currency end) as charged_currency
    from known_attempts
    group by order_id
),

-- the first charge of an order charged more than once (rare): the amount not to refund
later_charges as (
    select
        k.order_id,
        k.amount_minor,
        row_number() over (
            partition by k.order_id order by k.attempted_at, k.attempt_no, k.attempt_id
        ) as rn_in_status
    from known_attempts as k
    inner join attempt_summary as m
        on m.order_id = k.order_id
    where m.charges > 1
      and k.status = 'succeeded'
),

first_charges as (
    select
        order_id,
        amount_minor as first_charge_minor
    from later_charges
    where rn_in_status = 1
),

final as (
    select
        s.order_id,
        s.customer_id,
        coalesce(p.person_id, s.customer_id) as person_id,
        coalesce(p.score, 1.0) as identity_score,
        coalesce(p.reason, 'one customer record') as identity_reason,
        s.product_id,
        s.status,
        s.created_at,
        coalesce(a.first_attempt_at, s.created_at) as first_attempt_at,
        a.first_success_at,
        coalesce(a.charges, 0) as charges,
        coalesce(a.charged_minor, 0) as charged_minor,
        coalesce(f.first_charge_minor, a.charged_minor, 0) as first_charge_minor,
        coalesce(a.charged_currency, s.currency) as currency
    from scope_orders as s
    left join _link_persons as p
        on p.customer_id = s.customer_id
    left join attempt_summary as a
        on a.order_id = s.order_id
    left join first_charges as f
        on f.order_id = s.order_id
)

select * from final
