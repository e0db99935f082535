-- Queue one outbox row per (event, action) for a window's events (R9, R10, R12), set-based.
-- Default actions run for the merchant's default origins; product actions also for legacy order forms
-- and manual orders when the merchant enabled that (the origins are expanded into _followup_actions).
-- A product set may replace the defaults for an event kind. The key is event kind : subject : action,
-- so re-planning a window inserts nothing (R15); a second event of the same purchase for the same
-- action is recorded as `suppressed` (one apology per purchase, not one per failed attempt).
-- Rows already queued are left out by an anti-join, not `on conflict do nothing`: DuckDB 2.0 runs an
-- insert with an `on conflict` clause ~100x slower (28 s against 0.3 s for 100k rows, measured), even
-- when nothing conflicts. The primary key still refuses a duplicate (a concurrent planner of the same
-- window fails instead of queueing twice; the `warehouse_writer` pool serialises planners anyway).
-- Binds: :window_start, :planned_at, :stale_before.
insert into followup_outbox (
    outbox_id, idempotency_key, event_kind, event_at, subject_ref, order_id, purchase_id, customer_id,
    product_id, journey_instance_id, journey_step, action_id, channel, template, recipient, team,
    cancellable, status, attempts, next_attempt_at, last_error, done_at, window_start, planned_at
)
with

overridden as (
    select distinct
        event_kind,
        product_id,
        origin
    from _followup_actions
    where scope = 'product'
      and replaces_defaults
),

matched as (
    select
        e.event_kind,
        e.event_at,
        e.subject_ref,
        e.order_id,
        e.purchase_id,
        e.customer_id,
        e.product_id,
        a.action_id,
        a.channel,
        a.template,
        a.team,
        a.customer_facing,
        a.cancellable,
        a.delay_minutes,
        case
            when a.recipient_literal is not null then a.recipient_literal
            when a.channel = 'email' then c.email
            when a.channel = 'sms' then c.phone
            else e.customer_id
        end as recipient,
        e.event_kind || ':' || e.subject_ref || ':' || a.action_id as idempotency_key
    from _followup_events as e
    inner join _followup_actions as a
        on a.event_kind = e.event_kind
       and a.origin = e.origin
       and (a.scope = 'default' or a.product_id = e.product_id)
    left join customers as c
        on c.customer_id = e.customer_id
    where a.action_id is not null
      and not (
          a.scope = 'default'
          and exists (
              select 1
              from overridden as x
              where x.event_kind = e.event_kind
                and x.product_id = e.product_id
                and x.origin = e.origin
          )
      )
),

queued_before as (
    -- purchase-level suppression: one row per (event kind, purchase, action) already in the outbox
    select distinct
        event_kind,
        purchase_id,
        action_id
    from followup_outbox
    where purchase_id is not null
),

ranked as (
    select
        m.*,
        q.purchase_id is not null as queued_before,
        row_number() over (partition by m.idempotency_key order by m.event_at) as key_rank,
        row_number() over (
            partition by m.event_kind, m.purchase_id, m.action_id order by m.event_at, m.order_id
        ) as purchase_rank
    from matched as m
    left join queued_before as q
        on q.event_kind = m.event_kind
       and q.purchase_id = m.purchase_id
       and q.action_id = m.action_id
),

decided as (
    select
        r.*,
        case
            when r.recipient is null or trim(r.recipient) = '' then 'skipped'
            when r.customer_facing and r.event_at < :stale_before then 'skipped'
            when r.purchase_id is not null
                and (
                    r.purchase_rank > 1
                    or r.queued_before
                ) then 'suppressed'
            else 'pending'
        end as status,
        case
            when r.recipient is null or trim(r.recipient) = '' then 'no ' || r.channel || ' recipient'
            when r.customer_facing and r.event_at < :stale_before then 'stale: event too old to message'
            when r.purchase_id is not null then 'already queued for this purchase'
        end as reason
    from ranked as r
    where r.key_rank = 1
),

final as (
    select
        md5(idempotency_key) as outbox_id,
        idempotency_key,
        event_kind,
        event_at,
        subject_ref,
        order_id,
        purchase_id,
        customer_id,
        product_id,
        cast(null as text) as journey_instance_id,
        cast(null as text) as journey_step,
        action_id,
        channel,
        template,
        recipient,
        team,
        cancellable,
        status,
        0 as attempts,
        event_at + cast(delay_minutes as integer) * interval '1 minute' as next_attempt_at,
        case when status <> 'pending' then reason end as last_error,
        case when status <> 'pending' then cast(:planned_at as timestamp with time zone) end as done_at,
        cast(:window_start as timestamp with time zone) as window_start,
        cast(:planned_at as timestamp with time zone) as planned_at
    from decided
)

select f.*
from final as f
where not exists (select 1 from followup_outbox as o where o.outbox_id = f.outbox_id)
