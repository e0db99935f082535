-- One finance state per order of this run (finance_matches). An order takes the state of its match
-- group; an order with no charged attempt keeps the foundation's state (offline, failed attempt, or
-- charged without a gateway charge id). Group problems become one exception per group.
-- Binds: :window_start (the window of a group none of whose orders has been pulled yet).
delete from finance_matches
where item_type = 'order'
  and item_id in (select order_id from _fin_orders)
;
insert into finance_matches (
    item_type, item_id, window_start, gateway, currency, group_id, match_kind, decided_state, state,
    exception_id, expected_minor, settled_minor, difference_minor, write_off_minor, detail
)
with

order_group as (
    select
        order_id,
        min(group_id) as group_id
    from _fin_edges
    group by order_id
),

facts as (
    select
        fo.order_id,
        fo.window_start,
        fo.as_of as order_as_of,
        r.state as recon_state,
        r.gateway as recon_gateway,
        o.currency,
        o.total_minor,
        g.group_id,
        ge.group_state,
        ge.gateway,
        ge.match_kind,
        ge.exception_id,
        ge.settled_minor,
        ge.difference_minor,
        ge.write_off_minor,
        ge.as_of as group_as_of,
        ge.n_orders
    from _fin_orders as fo
    inner join orders as o
        on o.order_id = fo.order_id
    inner join reconciliation_results as r
        on r.item_type = 'order'
       and r.item_id = fo.order_id
    left join order_group as g
        on g.order_id = fo.order_id
    left join _fin_group_eval as ge
        on ge.group_id = g.group_id
),

decided as (
    select
        f.*,
        case
            when f.recon_state in ('offline', 'failed_attempt') then f.recon_state
            when f.group_id is null and f.recon_state = 'order_without_settlement' then 'exception'
            when f.group_id is null then f.recon_state
            when f.group_state in ('matched', 'written_off', 'pending') then f.group_state
            else 'exception'
        end as decided_state
    from facts as f
),

final as (
    select
        'order' as item_type,
        order_id as item_id,
        window_start,
        coalesce(gateway, recon_gateway) as gateway,
        currency,
        group_id,
        case when decided_state in ('matched', 'written_off') then match_kind end as match_kind,
        decided_state,
        decided_state as state,
        case
            when recon_state in ('offline', 'failed_attempt') then null
            when group_id is null and recon_state = 'order_without_settlement'
                then 'order_without_settlement:order:' || order_id
            else exception_id
        end as exception_id,
        total_minor as expected_minor,
        settled_minor,
        difference_minor,
        write_off_minor,
        case
            when recon_state = 'offline' then 'offline order: never sent to the gateway, not revenue (R12)'
            when n_orders > 1 then 'one charge for ' || cast(n_orders as varchar) || ' orders (combined invoice)'
            when match_kind = '1:N' and decided_state in ('matched', 'written_off')
                then 'paid in several captures'
            when decided_state = 'pending' and settled_minor > 0 then 'partly settled; awaiting the rest'
        end as detail
    from decided
)

select * from final
;
insert into _fin_new_exceptions (
    exception_id, kind, item_type, item_id, window_start, gateway, currency, amount_minor, detail,
    opened_at, aged_as_of, age_days, age_bucket, owner, status
)
with

group_window as (
    select
        e.group_id,
        coalesce(min(o.window_start), cast(:window_start as timestamp with time zone)) as window_start
    from _fin_edges as e
    left join _fin_orders as o
        on o.order_id = e.order_id
    group by e.group_id
),

group_exceptions as (
    select
        ge.exception_id,
        ge.group_state as kind,
        'match_group' as item_type,
        ge.group_id as item_id,
        w.window_start,
        ge.gateway,
        ge.currency,
        case
            when ge.group_state in ('order_without_settlement', 'many_to_many') then ge.expected_minor
            else ge.difference_minor
        end as amount_minor,
        case ge.group_state
            when 'amount_mismatch' then
                'expected ' || cast(ge.expected_minor as varchar) || ', settled ' || cast(ge.settled_minor as varchar)
                || ' (difference ' || cast(ge.difference_minor as varchar) || ', tolerance '
                || cast(ge.allowed_minor as varchar) || ')'
            when 'currency_mismatch' then
                'orders in ' || ge.currency || ', settled in ' || coalesce(ge.wrong_currency, 'several currencies')
            when 'partially_settled' then
                'settled ' || cast(ge.settled_minor as varchar) || ' of ' || cast(ge.expected_minor as varchar)
                || '; a charge still has no settlement line after the grace period'
            when 'order_without_settlement' then 'charged, grace period over, still no settlement line'
            else 'orders and charges are tangled many-to-many'
        end as detail,
        ge.first_charged_at as opened_at,
        ge.as_of
    from _fin_group_eval as ge
    inner join group_window as w
        on w.group_id = ge.group_id
    where ge.exception_id is not null
),

order_exceptions as (
    select
        m.exception_id,
        'order_without_settlement' as kind,
        'order' as item_type,
        m.item_id,
        m.window_start,
        m.gateway,
        m.currency,
        m.expected_minor as amount_minor,
        'charged without a gateway charge id; no settlement line can match it' as detail,
        m.window_start as opened_at,
        o.as_of
    from finance_matches as m
    inner join _fin_orders as o
        on o.order_id = m.item_id
    where m.item_type = 'order'
      and m.group_id is null
      and m.exception_id is not null
),

unioned as (
    select * from group_exceptions
    union all
    select * from order_exceptions
)

select
    u.exception_id,
    u.kind,
    u.item_type,
    u.item_id,
    u.window_start,
    u.gateway,
    u.currency,
    u.amount_minor,
    u.detail,
    u.opened_at,
    u.as_of as aged_as_of,
    0 as age_days,
    '<1d' as age_bucket,
    coalesce(k.owner, 'finance') as owner,
    'open' as status
from unioned as u
left join finance_exception_kinds as k
    on k.kind = u.kind
