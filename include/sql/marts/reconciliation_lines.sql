-- R14: give every settlement line of one window exactly one state. A duplicate is a second line
-- for a charge already settled, or a line of an order's second successful charge (CONTRACT.md).
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
    -- the charges this window's lines name (charges, refunds, chargebacks): cost follows the window,
    -- not the history, as only their lines and attempts are read
    select distinct charge_id
    from window_lines
    where charge_id is not null
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
    inner join window_charges as c
        on c.charge_id = a.gateway_charge_id
    where a.status = 'succeeded'
    group by a.gateway_charge_id
),

charge_lines_so_far as (
    -- every line of those charges that had arrived by this window, to tell first from duplicate
    select
        l.line_id,
        l.charge_id,
        l.window_start,
        l.file_id,
        l.line_no
    from settlement_lines as l
    inner join window_charges as c
        on c.charge_id = l.charge_id
    where l.line_type = 'charge'
      and l.window_start <= :window_start
),

charges_settled_twice as (
    select charge_id
    from charge_lines_so_far
    group by charge_id
    having count(*) > 1
),

repeated_lines as (
    -- a second line for a charge already settled (ranking only charges with several lines is ranking all)
    select line_id
    from (
        select
            c.line_id,
            row_number() over (
                partition by c.charge_id order by c.window_start, c.file_id, c.line_no
            ) as rank_in_charge
        from charge_lines_so_far as c
        inner join charges_settled_twice as t
            on t.charge_id = c.charge_id
    ) as ranked
    where rank_in_charge > 1
),

order_charges as (
    -- the successful charges of the orders those charges name, with when each was first made
    select
        a.order_id,
        a.gateway_charge_id as charge_id,
        min(a.attempted_at) as charged_at,
        min(a.attempt_id) as first_attempt_id
    from payment_attempts as a
    where a.status = 'succeeded'
      and a.gateway_charge_id is not null
      and a.order_id in (select order_id from succeeded_attempts)
    group by a.order_id, a.gateway_charge_id
),

orders_charged_twice as (
    select order_id
    from order_charges
    group by order_id
    having count(*) > 1
),

later_charges as (
    -- a second successful charge of one order, in the order the charges were made (not the order
    -- their lines happen to arrive in): its lines are duplicates, the first charge is the order's
    select
        order_id,
        charge_id
    from (
        select
            c.order_id,
            c.charge_id,
            row_number() over (
                partition by c.order_id order by c.charged_at, c.first_attempt_id, c.charge_id
            ) as rank_in_order
        from order_charges as c
        inner join orders_charged_twice as t
            on t.order_id = c.order_id
    ) as ranked
    where rank_in_order > 1
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
        lc.charge_id is not null as is_later_charge,
        case
            when l.line_type <> 'charge' then l.line_type
            when s.order_id is null then 'settled_without_order'
            when d.line_id is not null or lc.charge_id is not null then 'duplicate'
            when coalesce(l.presentment_currency, l.currency) <> s.currency then 'currency_mismatch'
            when coalesce(l.presentment_minor, l.gross_minor) <> s.amount_minor then 'amount_mismatch'
            else 'matched'
        end as state
    from window_lines as l
    left join succeeded_attempts as s
        on s.charge_id = l.charge_id
    left join repeated_lines as d
        on d.line_id = l.line_id
    left join later_charges as lc
        on lc.order_id = s.order_id and lc.charge_id = l.charge_id
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
            when state = 'duplicate' and is_later_charge then 'a second successful charge of the order'
            when state = 'duplicate' then 'charge already settled by an earlier line'
        end as detail
    from classified
)

select * from final
