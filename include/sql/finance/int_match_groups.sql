-- Decide each match group of this run as of its as-of: what its orders expect (their totals) against
-- what its charge lines settled (on the presentment amount and currency when the line carries them,
-- so an FX settlement compares in the order's currency and its FX difference is reported apart).
-- Lines the foundation called `duplicate` count when all lines together settle the group (several
-- captures of one order); otherwise the group is settled by its first lines and the others stay
-- duplicates. A difference within the merchant's tolerance matches and is written off.
-- Binds: :grace.
drop table if exists _fin_group_eval
;
create temporary table _fin_group_eval as
with

group_orders as (
    -- what each order of the group was charged, for an order not pulled yet
    select
        group_id,
        order_id,
        sum(amount_minor) as charged_minor,
        min(currency) as charged_currency
    from _fin_edges
    group by group_id, order_id
),

expected as (
    select
        g.group_id,
        sum(coalesce(o.total_minor, g.charged_minor)) as expected_minor,
        min(coalesce(o.currency, g.charged_currency)) as currency,
        count(distinct coalesce(o.currency, g.charged_currency)) as n_currencies,
        min(g.order_id) as first_order_id
    from group_orders as g
    left join orders as o
        on o.order_id = g.order_id
    group by g.group_id
),

group_charges as (
    select
        group_id,
        charge_id,
        min(attempted_at) as charged_at
    from _fin_edges
    group by group_id, charge_id
),

group_lines as (
    select
        c.group_id,
        c.charge_id,
        l.line_id,
        l.window_start,
        coalesce(l.presentment_currency, l.currency) as compared_currency,
        coalesce(l.presentment_minor, l.gross_minor) as compared_minor,
        coalesce(r.state, 'matched') = 'duplicate' as is_duplicate
    from group_charges as c
    inner join _fin_groups as g
        on g.group_id = c.group_id
    inner join settlement_lines as l
        on l.charge_id = c.charge_id
       and l.line_type = 'charge'
       and l.window_start < g.as_of
    left join reconciliation_results as r
        on r.item_type = 'settlement_line'
       and r.item_id = l.line_id
),

line_sums as (
    select
        gl.group_id,
        count(*) as n_lines,
        sum(case when gl.is_duplicate then 1 else 0 end) as n_duplicates,
        sum(case when gl.compared_currency <> e.currency and not gl.is_duplicate then 1 else 0 end)
            as n_wrong_currency,
        sum(case when gl.compared_currency = e.currency then gl.compared_minor else 0 end) as settled_all,
        sum(
            case when gl.compared_currency = e.currency and not gl.is_duplicate then gl.compared_minor else 0 end
        ) as settled_primary,
        max(gl.window_start) as last_line_window,
        min(case when gl.compared_currency <> e.currency then gl.compared_currency end) as wrong_currency
    from group_lines as gl
    inner join expected as e
        on e.group_id = gl.group_id
    group by gl.group_id
),

unsettled as (
    -- charges of the group with no line yet
    select
        c.group_id,
        min(c.charged_at) as first_unsettled_at
    from group_charges as c
    where not exists (
        select 1
        from group_lines as gl
        where gl.group_id = c.group_id
          and gl.charge_id = c.charge_id
    )
    group by c.group_id
),

tolerance_keys as (
    select distinct
        g.gateway,
        e.currency
    from _fin_groups as g
    inner join expected as e
        on e.group_id = g.group_id
),

tolerance as (
    select
        gateway,
        currency,
        absolute_minor,
        relative
    from (
        select
            k.gateway,
            k.currency,
            t.absolute_minor,
            t.relative,
            row_number() over (partition by k.gateway, k.currency order by t.specificity desc) as rn
        from tolerance_keys as k
        inner join finance_tolerances as t
            on (t.gateway = k.gateway or t.gateway = '*')
           and (t.currency = k.currency or t.currency = '*')
    ) as ranked
    where rn = 1
),

facts as (
    select
        g.group_id,
        g.as_of,
        g.gateway,
        g.n_orders,
        g.n_charges,
        g.first_charged_at,
        g.is_tangled,
        e.first_order_id,
        e.expected_minor,
        e.currency,
        e.n_currencies,
        coalesce(s.n_lines, 0) as n_lines,
        coalesce(s.n_duplicates, 0) as n_duplicates,
        coalesce(s.n_wrong_currency, 0) as n_wrong_currency,
        s.wrong_currency,
        coalesce(s.settled_all, 0) as settled_all,
        coalesce(s.settled_primary, 0) as settled_primary,
        s.last_line_window,
        u.first_unsettled_at,
        greatest(
            coalesce(t.absolute_minor, 0),
            cast(floor(coalesce(t.relative, 0) * abs(e.expected_minor)) as bigint)
        ) as allowed_minor
    from _fin_groups as g
    inner join expected as e
        on e.group_id = g.group_id
    left join line_sums as s
        on s.group_id = g.group_id
    left join unsettled as u
        on u.group_id = g.group_id
    left join tolerance as t
        on t.gateway = g.gateway
       and t.currency = e.currency
),

decided as (
    select
        f.*,
        case
            when f.is_tangled = 1 then 'many_to_many'
            when f.n_lines = 0 and f.first_charged_at <= f.as_of - :grace then 'order_without_settlement'
            when f.n_lines = 0 then 'pending'
            when f.n_currencies > 1 or f.n_wrong_currency > 0 then 'currency_mismatch'
            when f.settled_all = f.expected_minor then 'matched'
            when f.settled_primary = f.expected_minor then 'matched'
            when f.first_unsettled_at is null
                and abs(f.settled_all - f.expected_minor) <= f.allowed_minor then 'written_off'
            when abs(f.settled_primary - f.expected_minor) <= f.allowed_minor
                and f.settled_primary > 0 then 'written_off'
            when f.first_unsettled_at is not null and f.first_unsettled_at > f.as_of - :grace then 'pending'
            when f.first_unsettled_at is not null then 'partially_settled'
            else 'amount_mismatch'
        end as group_state,
        -- whether the lines the foundation called duplicate are part of the match (several captures)
        f.settled_all = f.expected_minor
            or (
                f.settled_primary <> f.expected_minor
                and f.first_unsettled_at is null
                and abs(f.settled_all - f.expected_minor) <= f.allowed_minor
            ) as uses_duplicates
    from facts as f
),

final as (
    select
        d.*,
        case when d.uses_duplicates then d.settled_all else d.settled_primary end as settled_minor,
        case when d.uses_duplicates then d.n_lines else d.n_lines - d.n_duplicates end as n_used_lines,
        case
            when d.group_state in ('matched', 'written_off')
                then (case when d.uses_duplicates then d.settled_all else d.settled_primary end) - d.expected_minor
        end as write_off_minor
    from decided as d
)

select
    f.*,
    settled_minor - expected_minor as difference_minor,
    case
        when n_orders = 1 and n_used_lines <= 1 then '1:1'
        when n_orders = 1 then '1:N'
        when n_used_lines <= 1 then 'N:1'
        else 'N:M'
    end as match_kind,
    case
        when group_state in ('amount_mismatch', 'currency_mismatch', 'partially_settled',
                             'order_without_settlement', 'many_to_many')
            then group_state || ':' || group_id
    end as exception_id
from final as f
