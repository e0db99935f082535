-- R12 (source 003): every offline order, its age in days, its follow-up task, and once processed by
-- hand ("Approved M") its manual charge and settlement line. An offline order is not revenue; an
-- approved one counts from its manual charge on. Rebuilt as of :as_of, which only moves forward
-- (like reconciliation_windows), so re-running an earlier window gives the same rows (R15).
-- Binds: :as_of, :allow_offline.
drop table if exists _offline_as_of
;
create temporary table _offline_as_of as
select greatest(
    cast(:as_of as timestamp with time zone),
    coalesce((select max(as_of) from offline_orders), cast(:as_of as timestamp with time zone))
) as as_of
;
delete from offline_orders
;
insert into offline_orders (
    order_id, customer_id, product_id, currency, total_minor, submitted_at, status, state, is_revenue,
    counted_from, charge_id, settlement_line_id, settled_minor, settled_currency, age_days,
    offline_allowed, followup_status, as_of
)
with

offline as (
    -- "Approved M" orders were offline orders approved by hand
    select o.*
    from orders as o
    cross join _offline_as_of as t
    where o.status in ('offline', 'approved_m')
      and o.created_at < t.as_of
),

manual_charge as (
    select
        order_id,
        gateway_charge_id as charge_id,
        attempted_at
    from (
        select
            a.order_id,
            a.gateway_charge_id,
            a.attempted_at,
            row_number() over (partition by a.order_id order by a.attempted_at, a.attempt_id) as rn
        from payment_attempts as a
        inner join offline as o
            on o.order_id = a.order_id
        where a.status = 'succeeded'
          and a.gateway_charge_id is not null
    ) as ranked
    where rn = 1
),

settled as (
    select
        charge_id,
        line_id,
        gross_minor,
        currency
    from (
        select
            l.charge_id,
            l.line_id,
            coalesce(l.presentment_minor, l.gross_minor) as gross_minor,
            coalesce(l.presentment_currency, l.currency) as currency,
            row_number() over (partition by l.charge_id order by l.window_start, l.file_id, l.line_no) as rn
        from settlement_lines as l
        inner join manual_charge as m
            on m.charge_id = l.charge_id
        where l.line_type = 'charge'
    ) as ranked
    where rn = 1
),

task as (
    select
        order_id,
        max(status) as followup_status
    from followup_outbox
    where event_kind = 'offline_order'
    group by order_id
),

final as (
    select
        o.order_id,
        o.customer_id,
        o.product_id,
        o.currency,
        o.total_minor,
        o.created_at as submitted_at,
        o.status,
        case
            when o.status = 'offline' then 'awaiting_manual_processing'
            when s.line_id is not null then 'approved_settled'
            else 'approved_awaiting_settlement'
        end as state,
        o.status = 'approved_m' as is_revenue,
        case when o.status = 'approved_m' then coalesce(m.attempted_at, o.updated_at) end as counted_from,
        m.charge_id,
        s.line_id as settlement_line_id,
        s.gross_minor as settled_minor,
        s.currency as settled_currency,
        case
            when o.status = 'approved_m'
                then cast(coalesce(m.attempted_at, o.updated_at) as date) - cast(o.created_at as date)
            else cast(t.as_of as date) - cast(o.created_at as date)
        end as age_days,
        cast(:allow_offline as boolean) as offline_allowed,
        k.followup_status,
        t.as_of
    from offline as o
    cross join _offline_as_of as t
    left join manual_charge as m
        on m.order_id = o.order_id
    left join settled as s
        on s.charge_id = m.charge_id
    left join task as k
        on k.order_id = o.order_id
)

select * from final
;
drop table if exists _offline_as_of
