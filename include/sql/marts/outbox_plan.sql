-- Queue one outbox row per (event, action) for a window's events (R9, R10, R12), set-based.
-- Default actions run for the merchant's default origins; product actions also for legacy order forms
-- and manual orders when the merchant enabled that (the origins are expanded into _followup_actions).
-- A product set may replace the defaults for an event kind. The key is event kind : subject : action,
-- so re-planning a window inserts nothing (R15); a second event of the same purchase for the same
-- action is recorded as `suppressed` (one apology per purchase, not one per failed attempt).
-- Rows already queued are left out by an anti-join, not `on conflict do nothing`: DuckDB 2.0 runs an
-- insert with an `on conflict` clause ~100x slower (28 s against 0.3 s for 100k rows, measured), even
-- when nothing conflicts. A duplicate still fails the planner's transaction: PostgreSQL's primary key
-- refuses it, and on DuckDB (keyless since migration 0011) `sql.prove_unique` counts the keys written.
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
    -- purchase-level suppression: one row per (event kind, purchase, action) already in the outbox,
    -- for the purchases of this window's events only
    select distinct
        o.event_kind,
        o.purchase_id,
        o.action_id
    from followup_outbox as o
    where o.purchase_id in (select e.purchase_id from _followup_events as e where e.purchase_id is not null)
),

crowded_keys as (
    -- a key matched more than once (the same action by default and by product): rank those rows only
    select idempotency_key
    from matched
    group by idempotency_key
    having count(*) > 1
),

crowded_purchases as (
    -- a purchase with several events for one action in the window: rank those rows only
    select
        event_kind,
        purchase_id,
        action_id
    from matched
    where purchase_id is not null
    group by event_kind, purchase_id, action_id
    having count(*) > 1
),

flagged as (
    select
        m.*,
        (k.idempotency_key is not null or p.purchase_id is not null) as crowded
    from matched as m
    left join crowded_keys as k
        on k.idempotency_key = m.idempotency_key
    left join crowded_purchases as p
        on p.event_kind = m.event_kind
       and p.purchase_id = m.purchase_id
       and p.action_id = m.action_id
),

ranked as (
    -- Window functions over a million rows are the planner's main cost (12 of 14 s, measured): every
    -- row of a crowded key or purchase is ranked with all the rows it competes with; the rest (nearly
    -- all) are first by construction.
    select
        f.*,
        1 as key_rank,
        1 as purchase_rank
    from flagged as f
    where not f.crowded
    union all
    select
        f.*,
        row_number() over (partition by f.idempotency_key order by f.event_at) as key_rank,
        row_number() over (
            partition by f.event_kind, f.purchase_id, f.action_id order by f.event_at, f.order_id
        ) as purchase_rank
    from flagged as f
    where f.crowded
),

decided as (
    select
        r.*,
        q.purchase_id is not null as queued_before,
        case
            when r.recipient is null or trim(r.recipient) = '' then 'skipped'
            when r.customer_facing and r.event_at < :stale_before then 'skipped'
            when r.purchase_id is not null
                and (
                    r.purchase_rank > 1
                    or q.purchase_id is not null
                ) then 'suppressed'
            else 'pending'
        end as status,
        case
            when r.recipient is null or trim(r.recipient) = '' then 'no ' || r.channel || ' recipient'
            when r.customer_facing and r.event_at < :stale_before then 'stale: event too old to message'
            when r.purchase_id is not null then 'already queued for this purchase'
        end as reason
    from ranked as r
    left join queued_before as q
        on q.event_kind = r.event_kind
       and q.purchase_id = r.purchase_id
       and q.action_id = r.action_id
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
),

already_queued as (
    -- keys queued by an earlier run: a narrow join on the key, so the anti-join below is against the
    -- (usually empty) set of re-planned rows, not a hash table of a million whole rows; a left join,
    -- not `not in`, which PostgreSQL may run as a subplan per row
    select f.outbox_id
    from final as f
    inner join followup_outbox as o
        on o.outbox_id = f.outbox_id
)

select f.*
from final as f
left join already_queued as q
    on q.outbox_id = f.outbox_id
where q.outbox_id is null
