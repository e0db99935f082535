-- R14: give every settlement line of one window exactly one state.
-- Binds: :window_start. Replaces the window's line rows; safe to run again (R15).
delete from reconciliation_results
where item_type = 'settlement_line'
  and window_start = :window_start
;
insert into reconciliation_results (
    item_type, item_id, window_start, gateway, state, order_id, line_id,
    currency, expected_minor, settled_minor, difference_minor, fee_minor, detail
)
with

window_lines as (
    select *
    from settlement_lines
    where window_start = :window_start
),

window_charges as (
    -- the charges this window's lines name (charges, refunds, chargebacks)
    select distinct charge_id
    from window_lines
    where charge_id is not null
),

window_orders as (
    -- the orders those charges were for: a line's rank among its order's lines needs their other charges
    select distinct a.order_id
    from payment_attempts as a
    inner join window_charges as w
        on w.charge_id = a.gateway_charge_id
    where a.status = 'succeeded'
),

scoped_charges as (
    -- cost follows the window, not the history: only these charges' lines and attempts are read
    select charge_id from window_charges
    union
    select a.gateway_charge_id as charge_id
    from payment_attempts as a
    inner join window_orders as o
        on o.order_id = a.order_id
    where a.status = 'succeeded'
      and a.gateway_charge_id is not null
),

charge_lines_so_far as (
    -- every charge line of those charges that had arrived by this window, to tell first from duplicate
    select
        l.line_id,
        l.charge_id,
        l.window_start,
        l.file_id,
        l.line_no
    from settlement_lines as l
    inner join scoped_charges as c
        on c.charge_id = l.charge_id
    where l.line_type = 'charge'
      and l.window_start <= :window_start
),

succeeded_attempts as (
    -- one row per charge: a charge several orders share (a combined invoice) is expected to settle
    -- their sum, and is named by its first order
    select
        min(a.order_id) as order_id,
        a.gateway_charge_id as charge_id,
        cast(sum(a.amount_minor) as bigint) as amount_minor,
        min(a.currency) as currency
    from payment_attempts as a
    inner join scoped_charges as c
        on c.charge_id = a.gateway_charge_id
    where a.status = 'succeeded'
    group by a.gateway_charge_id
),

charged_lines as (
    -- the lines that settle a known order's charge: the only ones that can be duplicates
    select
        c.line_id,
        c.charge_id,
        s.order_id,
        c.window_start,
        c.file_id,
        c.line_no
    from charge_lines_so_far as c
    inner join succeeded_attempts as s
        on s.charge_id = c.charge_id
),

charges_settled_twice as (
    select charge_id
    from charged_lines
    group by charge_id
    having count(*) > 1
),

orders_settled_twice as (
    select order_id
    from charged_lines
    group by order_id
    having count(*) > 1
),

contested_lines as (
    -- every line of a charge or order settled more than once; ranking only these is ranking all
    select *
    from charged_lines
    where charge_id in (select charge_id from charges_settled_twice)
       or order_id in (select order_id from orders_settled_twice)
),

duplicate_lines as (
    -- a line after the first of its charge, or after the first of its order (a second charge)
    select line_id
    from (
        select
            line_id,
            row_number() over (
                partition by charge_id order by window_start, file_id, line_no
            ) as rank_in_charge,
            row_number() over (
                partition by order_id order by window_start, file_id, line_no
            ) as rank_in_order
        from contested_lines
    ) as ranked
    where rank_in_charge > 1
       or rank_in_order > 1
),

classified as (
    select
        l.line_id,
        l.gateway,
        l.line_type,
        coalesce(s.order_id, l.order_ref) as order_id,
        coalesce(l.presentment_currency, l.currency) as compared_currency,
        coalesce(l.presentment_minor, l.gross_minor) as compared_minor,
        s.amount_minor as expected_minor,
        s.currency as expected_currency,
        l.fee_minor,
        case
            when l.line_type <> 'charge' then l.line_type
            when s.order_id is null then 'settled_without_order'
            when d.line_id is not null then 'duplicate'
            when coalesce(l.presentment_currency, l.currency) <> s.currency then 'currency_mismatch'
            when coalesce(l.presentment_minor, l.gross_minor) <> s.amount_minor then 'amount_mismatch'
            else 'matched'
        end as state
    from window_lines as l
    left join succeeded_attempts as s
        on s.charge_id = l.charge_id
    left join duplicate_lines as d
        on d.line_id = l.line_id
),

final as (
    select
        'settlement_line' as item_type,
        line_id as item_id,
        cast(:window_start as timestamp with time zone) as window_start,
        gateway,
        state,
        order_id,
        line_id,
        compared_currency as currency,
        expected_minor,
        compared_minor as settled_minor,
        case
            when state in ('matched', 'amount_mismatch') then compared_minor - expected_minor
        end as difference_minor,
        fee_minor,
        case
            when state = 'currency_mismatch' then 'order in ' || expected_currency
            when state = 'duplicate' then 'charge already settled by an earlier line'
        end as detail
    from classified
)

select * from final
