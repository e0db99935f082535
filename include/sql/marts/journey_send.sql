-- A send step: queue the step's actions for every due instance, then move it to the next step.
-- Key: <journey>.<step> : order:<id> : <action>, so advancing twice queues nothing twice (R15).
-- Binds: :journey_id, :step, :next_step, :next_wait_days, :now.
-- Already-queued keys are left out by an anti-join (DuckDB runs `on conflict` inserts ~100x slower).
insert into followup_outbox (
    outbox_id, idempotency_key, event_kind, event_at, subject_ref, order_id, purchase_id, customer_id,
    product_id, journey_instance_id, journey_step, action_id, channel, template, recipient, team,
    cancellable, status, attempts, next_attempt_at, last_error, done_at, window_start, planned_at
)
with

due as (
    select *
    from journey_instances
    where journey_id = :journey_id
      and status = 'active'
      and step = :step
      and wake_at <= :now
),

queued as (
    select
        d.journey_id || '.' || d.step as event_kind,
        'order:' || d.order_id as subject_ref,
        d.instance_id,
        d.step,
        d.order_id,
        d.purchase_id,
        d.customer_id,
        d.product_id,
        a.action_id,
        a.channel,
        a.template,
        a.team,
        a.cancellable,
        a.delay_minutes,
        case
            when a.recipient_literal is not null then a.recipient_literal
            when a.channel = 'email' then c.email
            when a.channel = 'sms' then c.phone
            else d.customer_id
        end as recipient
    from due as d
    inner join _followup_journey_actions as a
        on a.journey_id = d.journey_id
       and a.step = d.step
    left join customers as c
        on c.customer_id = d.customer_id
),

final as (
    select
        md5(event_kind || ':' || subject_ref || ':' || action_id) as outbox_id,
        event_kind || ':' || subject_ref || ':' || action_id as idempotency_key,
        event_kind,
        cast(:now as timestamp with time zone) as event_at,
        subject_ref,
        order_id,
        purchase_id,
        customer_id,
        product_id,
        instance_id as journey_instance_id,
        step as journey_step,
        action_id,
        channel,
        template,
        recipient,
        team,
        cancellable,
        case when recipient is null or trim(recipient) = '' then 'skipped' else 'pending' end as status,
        0 as attempts,
        cast(:now as timestamp with time zone) + cast(delay_minutes as integer) * interval '1 minute'
            as next_attempt_at,
        case when recipient is null or trim(recipient) = '' then 'no ' || channel || ' recipient' end
            as last_error,
        case when recipient is null or trim(recipient) = '' then cast(:now as timestamp with time zone) end
            as done_at,
        cast(null as timestamp with time zone) as window_start,
        cast(:now as timestamp with time zone) as planned_at
    from queued
)

select f.*
from final as f
where not exists (select 1 from followup_outbox as o where o.outbox_id = f.outbox_id)
;
update journey_instances
set
    step = :next_step,
    entered_at = cast(:now as timestamp with time zone),
    wake_at = cast(:now as timestamp with time zone) + cast(:next_wait_days as integer) * interval '1 day'
where journey_id = :journey_id
  and status = 'active'
  and step = :step
  and wake_at <= :now
