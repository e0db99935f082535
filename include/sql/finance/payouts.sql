-- Payouts: each payout's lines must sum to its amount, and the payout must tie to one line of the
-- merchant's bank statement (same currency, same amount within tolerance, booked within the date
-- window after the payout; a line mentioning the payout id is preferred). Until the date window has
-- passed a payout is in transit; after it, not in the bank. A gateway deposit on the bank statement
-- that no payout claims is reported too.
-- Decided: payouts with a line in this window, payouts of earlier windows not yet tied, the window's bank
-- lines and bank lines not yet tied, payouts tied to this window's bank lines; each as of its window's
-- finance as-of moved forward to this window's end.
-- Binds: :window_start, :window_end.
drop table if exists _fin_payout_keys
;
create temporary table _fin_payout_keys as
select distinct
    gateway,
    payout_id
from settlement_lines
where window_start = :window_start
  and payout_id is not null
union
select
    gateway,
    payout_id
from payouts
where window_start < :window_start
  and state not in ('tied', 'written_off')
union
select
    p.gateway,
    p.payout_id
from payouts as p
inner join bank_statement_lines as b
    on b.bank_line_id = p.bank_line_id
where b.window_start = :window_start
;
drop table if exists _fin_payouts
;
create temporary table _fin_payouts as
with

payout_lines as (
    select l.*
    from settlement_lines as l
    inner join _fin_payout_keys as k
        on k.gateway = l.gateway
       and k.payout_id = l.payout_id
),

placed as (
    select
        gateway,
        payout_id,
        coalesce(max(case when line_type = 'payout' then window_start end), max(window_start)) as window_start
    from payout_lines
    group by gateway, payout_id
),

dated as (
    select
        p.gateway,
        p.payout_id,
        p.window_start,
        greatest(coalesce(fw.as_of, :window_end), :window_end) as as_of
    from placed as p
    left join finance_windows as fw
        on fw.window_start = p.window_start
),

facts as (
    select
        d.gateway,
        d.payout_id,
        d.window_start,
        d.as_of,
        min(l.currency) as currency,
        count(distinct l.currency) as n_currencies,
        coalesce(max(case when l.line_type = 'payout' then l.occurred_at end), max(l.occurred_at)) as payout_at,
        sum(case when l.line_type = 'payout' then 1 else 0 end) as n_payout_lines,
        sum(case when l.line_type = 'payout' then -l.net_minor else 0 end) as payout_minor,
        sum(case when l.line_type <> 'payout' then l.net_minor else 0 end) as lines_net_minor,
        sum(case when l.line_type <> 'payout' then 1 else 0 end) as line_count
    from dated as d
    inner join payout_lines as l
        on l.gateway = d.gateway
       and l.payout_id = d.payout_id
       and l.window_start < d.as_of
    group by d.gateway, d.payout_id, d.window_start, d.as_of
),

tolerance as (
    select *
    from (
        select
            f.gateway,
            f.payout_id,
            t.absolute_minor,
            t.relative,
            t.date_window_days,
            row_number() over (partition by f.gateway, f.payout_id order by t.specificity desc) as rn
        from facts as f
        inner join finance_tolerances as t
            on (t.gateway = f.gateway or t.gateway = '*')
           and (t.currency = f.currency or t.currency = '*')
    ) as ranked
    where rn = 1
),

final as (
    select
        f.*,
        case when f.n_payout_lines > 0 then f.payout_minor else f.lines_net_minor end as amount_minor,
        coalesce(t.absolute_minor, 0) as absolute_minor,
        coalesce(t.relative, 0) as relative,
        coalesce(t.date_window_days, 3) as date_window_days,
        cast(f.payout_at as date) as payout_date
    from facts as f
    left join tolerance as t
        on t.gateway = f.gateway
       and t.payout_id = f.payout_id
)

select
    f.*,
    greatest(f.absolute_minor, cast(floor(f.relative * abs(f.amount_minor)) as bigint)) as allowed_minor
from final as f
;
drop table if exists _fin_bank
;
create temporary table _fin_bank as
with

keys as (
    select bank_line_id
    from bank_statement_lines
    where window_start = :window_start
    union
    select item_id as bank_line_id
    from finance_matches
    where item_type = 'bank_line'
      and decided_state in ('awaiting_payout', 'exception')
    union
    select p.bank_line_id
    from payouts as p
    inner join _fin_payout_keys as k
        on k.gateway = p.gateway
       and k.payout_id = p.payout_id
    where p.bank_line_id is not null
),

lines as (
    select
        b.*,
        upper(coalesce(b.counterparty, '') || ' ' || coalesce(b.remittance_info, '')) as search_text,
        upper(coalesce(b.remittance_info, '') || ' ' || coalesce(b.end_to_end_id, '') || ' '
              || coalesce(b.bank_ref, '')) as reference_text
    from bank_statement_lines as b
    inner join keys as k
        on k.bank_line_id = b.bank_line_id
),

attributed as (
    select
        l.bank_line_id,
        min(d.gateway) as gateway
    from lines as l
    inner join finance_bank_descriptors as d
        on l.search_text like '%' || d.pattern || '%'
    group by l.bank_line_id
),

tolerance as (
    select *
    from (
        select
            l.bank_line_id,
            t.date_window_days,
            row_number() over (partition by l.bank_line_id order by t.specificity desc) as rn
        from lines as l
        left join attributed as a
            on a.bank_line_id = l.bank_line_id
        inner join finance_tolerances as t
            on (t.gateway = a.gateway or t.gateway = '*')
           and (t.currency = l.currency or t.currency = '*')
    ) as ranked
    where rn = 1
)

select
    l.*,
    a.gateway,
    coalesce(t.date_window_days, 3) as date_window_days,
    greatest(coalesce(fw.as_of, :window_end), :window_end) as as_of
from lines as l
left join attributed as a
    on a.bank_line_id = l.bank_line_id
left join tolerance as t
    on t.bank_line_id = l.bank_line_id
left join finance_windows as fw
    on fw.window_start = l.window_start
;
drop table if exists _fin_payout_ties
;
create temporary table _fin_payout_ties as
with

pairs as (
    select
        p.gateway,
        p.payout_id,
        b.bank_line_id,
        b.amount_minor,
        b.booking_date,
        b.amount_minor - p.amount_minor as difference_minor,
        case when position(upper(p.payout_id) in b.reference_text) > 0 then 1 else 0 end as ref_hit,
        b.booking_date - p.payout_date as day_gap
    from _fin_payouts as p
    inner join _fin_bank as b
        on b.currency = p.currency
       and b.window_start < p.as_of
       and b.booking_date >= p.payout_date
       and b.booking_date <= p.payout_date + p.date_window_days
    where abs(b.amount_minor - p.amount_minor) <= p.allowed_minor
      and (b.gateway = p.gateway or position(upper(p.payout_id) in b.reference_text) > 0)
),

ranked as (
    select
        pr.*,
        row_number() over (
            partition by pr.gateway, pr.payout_id
            order by pr.ref_hit desc, abs(pr.difference_minor), pr.day_gap, pr.bank_line_id
        ) as rank_for_payout,
        row_number() over (
            partition by pr.bank_line_id
            order by pr.ref_hit desc, abs(pr.difference_minor), pr.day_gap, pr.gateway, pr.payout_id
        ) as rank_for_bank_line
    from pairs as pr
)

select *
from ranked
where rank_for_payout = 1
  and rank_for_bank_line = 1
;
delete from payouts
where exists (
    select 1
    from _fin_payout_keys as k
    where k.gateway = payouts.gateway
      and k.payout_id = payouts.payout_id
)
;
insert into payouts (
    gateway, payout_id, window_start, currency, payout_at, has_payout_line, amount_minor, lines_net_minor,
    line_count, sum_difference_minor, bank_line_id, bank_amount_minor, bank_booking_date,
    bank_difference_minor, state
)
select
    p.gateway,
    p.payout_id,
    p.window_start,
    p.currency,
    p.payout_at,
    p.n_payout_lines > 0 as has_payout_line,
    p.amount_minor,
    p.lines_net_minor,
    p.line_count,
    p.amount_minor - p.lines_net_minor as sum_difference_minor,
    t.bank_line_id,
    t.amount_minor as bank_amount_minor,
    t.booking_date as bank_booking_date,
    t.difference_minor as bank_difference_minor,
    case
        when p.n_currencies > 1 or p.amount_minor <> p.lines_net_minor then 'lines_do_not_sum'
        when t.bank_line_id is not null and t.difference_minor = 0 then 'tied'
        when t.bank_line_id is not null then 'written_off'
        when cast(p.as_of as date) > p.payout_date + p.date_window_days then 'not_in_bank'
        else 'in_transit'
    end as state
from _fin_payouts as p
left join _fin_payout_ties as t
    on t.gateway = p.gateway
   and t.payout_id = p.payout_id
;
delete from write_offs
where source = 'tolerance'
  and item_type = 'payout'
  and item_id in (select gateway || ':' || payout_id from _fin_payout_keys)
;
insert into write_offs (
    write_off_id, source, reason, item_type, item_id, window_start, gateway, currency, amount_minor,
    exception_id, resolution_id, detail
)
select
    'tolerance:payout:' || p.gateway || ':' || p.payout_id as write_off_id,
    'tolerance' as source,
    case when abs(p.bank_difference_minor) = 1 then 'rounding' else 'bank_difference' end as reason,
    'payout' as item_type,
    p.gateway || ':' || p.payout_id as item_id,
    p.window_start,
    p.gateway,
    p.currency,
    p.bank_difference_minor as amount_minor,
    cast(null as varchar) as exception_id,
    cast(null as varchar) as resolution_id,
    'payout ' || cast(p.amount_minor as varchar) || ', bank deposit ' || cast(p.bank_amount_minor as varchar)
    as detail
from payouts as p
inner join _fin_payout_keys as k
    on k.gateway = p.gateway
   and k.payout_id = p.payout_id
where p.state = 'written_off'
;
delete from finance_matches
where (item_type = 'payout' and item_id in (select gateway || ':' || payout_id from _fin_payout_keys))
   or (item_type = 'bank_line' and item_id in (select bank_line_id from _fin_bank))
   or (item_type = 'settlement_line' and item_id in (
        select l.line_id
        from settlement_lines as l
        inner join _fin_payout_keys as k
            on k.gateway = l.gateway
           and k.payout_id = l.payout_id
        where l.line_type = 'payout'
   ))
;
insert into finance_matches (
    item_type, item_id, window_start, gateway, currency, group_id, match_kind, decided_state, state,
    exception_id, expected_minor, settled_minor, difference_minor, write_off_minor, detail
)
with

decided as (
    select
        p.*,
        case
            when p.state in ('tied', 'written_off', 'in_transit') then p.state
            else 'exception'
        end as decided_state,
        case
            when p.state in ('lines_do_not_sum', 'not_in_bank')
                then 'payout_' || p.state || ':payout:' || p.gateway || ':' || p.payout_id
        end as exception_id
    from payouts as p
    inner join _fin_payout_keys as k
        on k.gateway = p.gateway
       and k.payout_id = p.payout_id
),

payout_rows as (
    select
        'payout' as item_type,
        d.gateway || ':' || d.payout_id as item_id,
        d.window_start,
        d.gateway,
        d.currency,
        cast(null as varchar) as group_id,
        case when d.bank_line_id is not null then '1:1' end as match_kind,
        d.decided_state,
        d.exception_id,
        d.amount_minor as expected_minor,
        d.bank_amount_minor as settled_minor,
        d.bank_difference_minor as difference_minor,
        case when d.state = 'written_off' then d.bank_difference_minor end as write_off_minor,
        case
            when d.state = 'lines_do_not_sum' then 'lines sum to ' || cast(d.lines_net_minor as varchar)
                || ', payout is ' || cast(d.amount_minor as varchar)
            when d.bank_line_id is not null then 'bank line ' || d.bank_line_id
        end as detail
    from decided as d
),

payout_line_rows as (
    select
        'settlement_line' as item_type,
        l.line_id as item_id,
        l.window_start,
        l.gateway,
        l.currency,
        cast(null as varchar) as group_id,
        cast(null as varchar) as match_kind,
        case when d.decided_state in ('tied', 'written_off') then 'payout' else d.decided_state end
            as decided_state,
        d.exception_id,
        d.amount_minor as expected_minor,
        -l.net_minor as settled_minor,
        cast(null as bigint) as difference_minor,
        cast(null as bigint) as write_off_minor,
        'payout ' || d.payout_id || ': ' || d.state as detail
    from settlement_lines as l
    inner join decided as d
        on d.gateway = l.gateway
       and d.payout_id = l.payout_id
    where l.line_type = 'payout'
),

bank_rows as (
    select
        'bank_line' as item_type,
        b.bank_line_id as item_id,
        b.window_start,
        coalesce(t.gateway, b.gateway) as gateway,
        b.currency,
        cast(null as varchar) as group_id,
        case when t.bank_line_id is not null then '1:1' end as match_kind,
        case
            when t.bank_line_id is not null then 'tied'
            when b.gateway is null then 'not_gateway'
            when cast(b.as_of as date) > b.booking_date + b.date_window_days then 'exception'
            else 'awaiting_payout'
        end as decided_state,
        case
            when t.bank_line_id is null and b.gateway is not null
                and cast(b.as_of as date) > b.booking_date + b.date_window_days
                then 'bank_line_without_payout:bank_line:' || b.bank_line_id
        end as exception_id,
        cast(null as bigint) as expected_minor,
        b.amount_minor as settled_minor,
        t.difference_minor,
        cast(null as bigint) as write_off_minor,
        case
            when t.bank_line_id is not null then 'payout ' || t.gateway || ':' || t.payout_id
            when b.gateway is null then 'not a gateway deposit'
        end as detail
    from _fin_bank as b
    left join _fin_payout_ties as t
        on t.bank_line_id = b.bank_line_id
),

unioned as (
    select * from payout_rows
    union all
    select * from payout_line_rows
    union all
    select * from bank_rows
)

select
    item_type,
    item_id,
    window_start,
    gateway,
    currency,
    group_id,
    match_kind,
    decided_state,
    decided_state as state,
    exception_id,
    expected_minor,
    settled_minor,
    difference_minor,
    write_off_minor,
    detail
from unioned
;
insert into _fin_exception_scope (item_type, item_id)
select
    'payout' as item_type,
    gateway || ':' || payout_id as item_id
from _fin_payout_keys
union all
select
    'bank_line' as item_type,
    bank_line_id as item_id
from _fin_bank
;
insert into _fin_new_exceptions (
    exception_id, kind, item_type, item_id, window_start, gateway, currency, amount_minor, detail,
    opened_at, aged_as_of, age_days, age_bucket, owner, status
)
with

raised as (
    select
        m.exception_id,
        substr(m.exception_id, 1, position(':' in m.exception_id) - 1) as kind,
        m.item_type,
        m.item_id,
        m.window_start,
        m.gateway,
        m.currency,
        case when m.item_type = 'payout' then p.amount_minor else m.settled_minor end as amount_minor,
        case
            when m.item_type = 'payout' and m.exception_id like 'payout_lines_do_not_sum:%'
                then 'payout ' || p.payout_id || ' of ' || cast(p.amount_minor as varchar) || ' but its '
                || cast(p.line_count as varchar) || ' lines sum to ' || cast(p.lines_net_minor as varchar)
            when m.item_type = 'payout'
                then 'payout ' || p.payout_id || ' of ' || cast(p.amount_minor as varchar) || ' paid '
                || cast(p.payout_date as varchar) || ', not on the bank statement within '
                || cast(p.date_window_days as varchar) || ' days'
            else 'bank deposit of ' || cast(b.amount_minor as varchar) || ' on ' || cast(b.booking_date as varchar)
                || ' (' || coalesce(b.counterparty, '') || ' ' || coalesce(b.remittance_info, '')
                || ') matches no payout'
        end as detail,
        case
            when m.item_type = 'payout' then p.payout_at
            else cast(b.booking_date as timestamp with time zone)
        end as opened_at,
        coalesce(p.as_of, b.as_of) as as_of
    from finance_matches as m
    left join _fin_payouts as p
        on m.item_type = 'payout'
       and m.item_id = p.gateway || ':' || p.payout_id
    left join _fin_bank as b
        on m.item_type = 'bank_line'
       and m.item_id = b.bank_line_id
    where m.item_type in ('payout', 'bank_line')
      and m.exception_id is not null
      and (p.payout_id is not null or b.bank_line_id is not null)
)

select
    r.exception_id,
    r.kind,
    r.item_type,
    r.item_id,
    r.window_start,
    r.gateway,
    r.currency,
    r.amount_minor,
    r.detail,
    r.opened_at,
    r.as_of as aged_as_of,
    0 as age_days,
    '<1d' as age_bucket,
    coalesce(k.owner, 'finance') as owner,
    'open' as status
from raised as r
left join finance_exception_kinds as k
    on k.kind = r.kind
