-- Start journeys (R11, R13) for a window's events: one instance per (journey, order), at most one per
-- purchase; an event too old to message starts an instance that exits at once (a backfill must not
-- send an invoice for a purchase made months ago). Binds: :stale_before.
-- An anti-join, not `on conflict do nothing`, keeps re-runs from inserting twice (DuckDB runs inserts
-- with an `on conflict` clause ~100x slower, measured); the primary key still refuses a duplicate.
insert into journey_instances (
    instance_id, journey_id, order_id, purchase_id, customer_id, product_id, status, step,
    entered_at, wake_at, started_at, ended_at, end_reason
)
with

triggered as (
    select
        t.journey_id,
        t.first_step,
        t.first_wait_days,
        e.order_id,
        e.purchase_id,
        e.customer_id,
        e.product_id,
        e.event_at,
        row_number() over (
            partition by t.journey_id, coalesce(e.purchase_id, e.order_id) order by e.event_at, e.order_id
        ) as rn
    from _followup_events as e
    inner join _followup_journey_triggers as t
        on t.event_kind = e.event_kind
       and t.product_id = e.product_id
    where (not t.subscription_only or e.is_subscription)
),

fresh as (
    select *
    from triggered as g
    where g.rn = 1
      -- two anti-joins, not one with `or`: an `or` of equalities cannot be hashed (a nested loop)
      and not exists (
          select 1
          from journey_instances as j
          where j.journey_id = g.journey_id
            and j.order_id = g.order_id
      )
      and not exists (
          select 1
          from journey_instances as j
          where j.journey_id = g.journey_id
            and j.purchase_id = g.purchase_id
      )
),

final as (
    select
        md5(journey_id || ':order:' || order_id) as instance_id,
        journey_id,
        order_id,
        purchase_id,
        customer_id,
        product_id,
        case when event_at < :stale_before then 'exited' else 'active' end as status,
        first_step as step,
        event_at as entered_at,
        event_at + cast(first_wait_days as integer) * interval '1 day' as wake_at,
        event_at as started_at,
        case when event_at < :stale_before then event_at end as ended_at,
        case when event_at < :stale_before then 'stale_at_start' end as end_reason
    from fresh
)

select f.*
from final as f
where not exists (select 1 from journey_instances as j where j.instance_id = f.instance_id)
