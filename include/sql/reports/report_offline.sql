-- Offline orders (R12): submitted offline and still waiting for someone to process them by hand, and
-- those approved by hand ("Approved M") in the period, counted as revenue from the manual charge on.
-- Age in days at the period's end; the latest follow-up task status. Needs _report_outbox.
-- Binds: :period_start, :period_end.
with

manual_charge as (
    select
        a.order_id,
        min(a.attempted_at) as charged_at
    from payment_attempts as a
    inner join orders as o
        on o.order_id = a.order_id
    where o.status = 'approved_m'
      and a.status = 'succeeded'
    group by a.order_id
),

offline as (
    select
        o.order_id,
        o.customer_id,
        o.product_id,
        o.status,
        o.currency,
        o.total_minor,
        o.created_at,
        m.charged_at
    from orders as o
    left join manual_charge as m
        on m.order_id = o.order_id
    where o.status in ('offline', 'approved_m')
      and o.created_at < :period_end
),

tasks as (
    select
        order_id,
        max(status) as followup_status,
        max(sent_at) as followup_sent_at
    from _report_outbox
    where event_kind = 'offline_order'
    group by order_id
),

final as (
    select
        case
            when f.charged_at is null or f.charged_at >= :period_end then 'pending'
            else 'approved by hand'
        end as state,
        f.order_id,
        f.customer_id,
        f.product_id,
        f.currency,
        f.total_minor as amount_minor,
        f.created_at as submitted_at,
        case when f.charged_at < :period_end then f.charged_at end as approved_at,
        cast(
            cast(case when f.charged_at < :period_end then f.charged_at else :period_end end as date)
            - cast(f.created_at as date)
        as bigint) as age_days,
        t.followup_status,
        t.followup_sent_at
    from offline as f
    left join tasks as t
        on t.order_id = f.order_id
    where f.charged_at is null
       or f.charged_at >= :period_start
)

select * from final
order by state desc, submitted_at, order_id
