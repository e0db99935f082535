-- Revenue recovered in the period, each payment attributed to the last follow-up sent before it
-- (last touch): a purchase that converted after failed attempts, a failed installment paid later,
-- an offline order approved by hand (R12). Needs _report_outbox. Binds: :period_start, :period_end.
with

purchases_recovered as (
    select
        'purchase' as kind,
        p.purchase_id as reference,
        p.converted_order_id as paid_order_id,
        o.customer_id,
        o.currency,
        o.total_minor as amount_minor,
        p.first_attempt_at as failed_at,
        p.converted_at as paid_at
    from purchases as p
    inner join orders as o
        on o.order_id = p.converted_order_id
    where p.failed_attempts > 0
      and p.converted_at >= :period_start
      and p.converted_at < :period_end
      and o.status <> 'approved_m'
),

paid_in_period as (
    select
        order_id,
        min(attempted_at) as paid_at
    from payment_attempts
    where status = 'succeeded'
      and attempted_at >= :period_start
      and attempted_at < :period_end
    group by order_id
),

installments_recovered as (
    select
        'installment' as kind,
        o.order_id as reference,
        o.order_id as paid_order_id,
        o.customer_id,
        o.currency,
        o.total_minor as amount_minor,
        min(a.attempted_at) as failed_at,
        min(s.paid_at) as paid_at
    from paid_in_period as s
    inner join orders as o
        on o.order_id = s.order_id
    inner join payment_attempts as a
        on a.order_id = s.order_id
       and a.status in ('declined', 'error')
       and a.attempted_at < s.paid_at
    where o.installment_no > 1
      and o.status <> 'approved_m'
    group by o.order_id, o.customer_id, o.currency, o.total_minor
),

offline_approved as (
    select
        'offline approved' as kind,
        o.order_id as reference,
        o.order_id as paid_order_id,
        o.customer_id,
        o.currency,
        o.total_minor as amount_minor,
        o.created_at as failed_at,
        s.paid_at
    from paid_in_period as s
    inner join orders as o
        on o.order_id = s.order_id
    where o.status = 'approved_m'
),

recovered as (
    select * from purchases_recovered
    union all
    select * from installments_recovered
    union all
    select * from offline_approved
),

subject_orders as (
    -- the orders whose follow-ups speak for a recovery: every order of the purchase, or the order
    select
        r.kind,
        r.reference,
        l.order_id
    from recovered as r
    inner join attempt_links as l
        on l.purchase_id = r.reference
    where r.kind = 'purchase'
    union all
    select
        kind,
        reference,
        reference as order_id
    from recovered
    where kind <> 'purchase'
),

touches as (
    select
        s.kind,
        s.reference,
        t.channel,
        t.action_id,
        t.template,
        t.sent_at,
        row_number() over (
            partition by s.kind, s.reference order by t.sent_at desc, t.outbox_id desc
        ) as touch_rank,
        count(*) over (partition by s.kind, s.reference) as touches_before
    from subject_orders as s
    inner join recovered as r
        on r.kind = s.kind
       and r.reference = s.reference
    inner join _report_outbox as t
        on t.order_id = s.order_id
    where t.status = 'sent'
      and t.sent_at <= r.paid_at
),

final as (
    select
        r.kind,
        r.reference,
        r.paid_order_id,
        r.customer_id,
        r.currency,
        r.amount_minor,
        r.failed_at,
        r.paid_at,
        t.channel as touch_channel,
        t.action_id as touch_action,
        t.template as touch_template,
        t.sent_at as touch_sent_at,
        cast(coalesce(t.touches_before, 0) as bigint) as touches_before
    from recovered as r
    left join touches as t
        on t.kind = r.kind
       and t.reference = r.reference
       and t.touch_rank = 1
)

select * from final
order by paid_at, reference
