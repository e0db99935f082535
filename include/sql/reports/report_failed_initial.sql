-- Failed initial orders that are not retried (R1, and R3/R5/R6/R7 where they decided an initial
-- order), decided in the period's windows: the latest decision of each order, its last failure, and
-- whether the purchase was paid later by another order (R8). Binds: :period_start, :period_end.
with

decided as (
    select
        order_id,
        rule,
        result,
        origin,
        outcome,
        attempt_id
    from (
        select
            d.*,
            row_number() over (partition by d.order_id order by d.window_start desc) as rn
        from order_decisions as d
        where d.aspect = 'auto_charge'
          and d.tag = 'failed_initial'
          and not coalesce(d.retry_eligible, false)
          and d.window_start >= :period_start
          and d.window_start < :period_end
    ) as ranked
    where rn = 1
),

final as (
    select
        d.order_id,
        o.customer_id,
        o.product_id,
        d.origin,
        d.rule,
        d.result,
        o.status as order_status,
        o.currency,
        o.total_minor as amount_minor,
        a.attempted_at as failed_at,
        coalesce(a.decline_code, a.error_code) as failure_code,
        o.auto_charge,
        l.role as purchase_role,
        l.linked_order_id as paid_by_order_id
    from decided as d
    inner join orders as o
        on o.order_id = d.order_id
    left join payment_attempts as a
        on a.attempt_id = d.attempt_id
    left join attempt_links as l
        on l.order_id = d.order_id
)

select * from final
order by failed_at, order_id
