-- What is still unrecovered at the period's end: purchases whose attempts all failed (started within
-- the lookback), failed installments not paid, offline orders not yet processed by hand (R12); with
-- the follow-ups sent so far, those still waiting to go out, and the next automatic retry (R2).
-- Needs _report_outbox.
-- Binds: :lookback_start, :period_end.
with

open_purchases as (
    select
        p.purchase_id,
        p.first_attempt_at
    from purchases as p
    where p.first_attempt_at >= :lookback_start
      and p.first_attempt_at < :period_end
      and (p.converted_at is null or p.converted_at >= :period_end)
      and not exists (
          -- an offline order of the purchase is followed up as an offline order (below)
          select 1
          from attempt_links as l
          inner join orders as o
              on o.order_id = l.order_id
          where l.purchase_id = p.purchase_id
            and o.status in ('offline', 'approved_m')
      )
),

latest_attempt_order as (
    select
        purchase_id,
        order_id
    from (
        select
            l.purchase_id,
            l.order_id,
            row_number() over (partition by l.purchase_id order by o.created_at desc, o.order_id desc) as rn
        from attempt_links as l
        inner join open_purchases as p
            on p.purchase_id = l.purchase_id
        inner join orders as o
            on o.order_id = l.order_id
        where o.created_at < :period_end
          and o.status <> 'offline'
    ) as ranked
    where rn = 1
),

purchases_open as (
    select
        'purchase' as kind,
        p.purchase_id as reference,
        o.order_id,
        o.customer_id,
        o.currency,
        o.total_minor as amount_minor,
        p.first_attempt_at as failed_at
    from open_purchases as p
    inner join latest_attempt_order as lo
        on lo.purchase_id = p.purchase_id
    inner join orders as o
        on o.order_id = lo.order_id
),

installments_open as (
    select
        'installment' as kind,
        o.order_id as reference,
        o.order_id,
        o.customer_id,
        o.currency,
        o.total_minor as amount_minor,
        min(a.attempted_at) as failed_at
    from orders as o
    inner join payment_attempts as a
        on a.order_id = o.order_id
       and a.status in ('declined', 'error')
    where o.installment_no > 1
      and o.created_at >= :lookback_start
      and o.created_at < :period_end
      and a.attempted_at < :period_end
      and not exists (
          select 1
          from payment_attempts as s
          where s.order_id = o.order_id
            and s.status = 'succeeded'
            and s.attempted_at < :period_end
      )
    group by o.order_id, o.customer_id, o.currency, o.total_minor
),

offline_open as (
    select
        'offline pending' as kind,
        o.order_id as reference,
        o.order_id,
        o.customer_id,
        o.currency,
        o.total_minor as amount_minor,
        o.created_at as failed_at
    from orders as o
    where o.status in ('offline', 'approved_m')
      and o.created_at < :period_end
      and not exists (
          select 1
          from payment_attempts as s
          where s.order_id = o.order_id
            and s.status = 'succeeded'
            and s.attempted_at < :period_end
      )
),

open_items as (
    select * from purchases_open
    union all
    select * from installments_open
    union all
    select * from offline_open
),

subject_orders as (
    select
        i.kind,
        i.reference,
        l.order_id
    from open_items as i
    inner join attempt_links as l
        on l.purchase_id = i.reference
    where i.kind = 'purchase'
    union all
    select
        kind,
        reference,
        order_id
    from open_items
    where kind <> 'purchase'
),

touches as (
    select
        s.kind,
        s.reference,
        t.channel,
        t.action_id,
        t.sent_at,
        row_number() over (
            partition by s.kind, s.reference order by t.sent_at desc, t.outbox_id desc
        ) as touch_rank,
        count(*) over (partition by s.kind, s.reference) as followups_sent
    from subject_orders as s
    inner join _report_outbox as t
        on t.order_id = s.order_id
    where t.status = 'sent'
      and t.sent_at < :period_end
),

waiting as (
    -- follow-ups queued but not delivered yet (a channel down or not configured shows here)
    select
        s.kind,
        s.reference,
        count(*) as followups_waiting
    from subject_orders as s
    inner join _report_outbox as t
        on t.order_id = s.order_id
    where t.status in ('pending', 'sending')
    group by s.kind, s.reference
),

final as (
    select
        i.kind,
        i.reference,
        i.order_id,
        i.customer_id,
        i.currency,
        i.amount_minor,
        i.failed_at,
        cast(cast(:period_end as date) - cast(i.failed_at as date) as bigint) as age_days,
        cast(coalesce(t.followups_sent, 0) as bigint) as followups_sent,
        cast(coalesce(w.followups_waiting, 0) as bigint) as followups_waiting,
        t.channel as last_followup_channel,
        t.action_id as last_followup_action,
        t.sent_at as last_followup_at,
        r.next_attempt_at as next_retry_at
    from open_items as i
    left join touches as t
        on t.kind = i.kind
       and t.reference = i.reference
       and t.touch_rank = 1
    left join waiting as w
        on w.kind = i.kind
       and w.reference = i.reference
    left join retry_list as r
        on r.order_id = i.order_id
)

select * from final
order by failed_at, reference
