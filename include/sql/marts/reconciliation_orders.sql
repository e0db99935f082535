-- R14: give every order of a window exactly one state, and refresh orders of earlier windows that
-- were still pending or changed since (a late settlement line, a status edited by hand).
-- Each order is decided as of its own as-of (see int_orders_to_evaluate): lines count only once
-- they had arrived by then, so a re-run gives the same rows (R15).
delete from reconciliation_results
where item_type = 'order'
  and item_id in (select order_id from _orders_to_evaluate)
;
insert into reconciliation_results (
    item_type, item_id, window_start, gateway, state, order_id, line_id,
    currency, expected_minor, settled_minor, difference_minor, fee_minor, detail
)
with

evaluated as (
    select
        order_id,
        status,
        window_start,
        as_of,
        pending_cutoff
    from _orders_to_evaluate
),

first_success as (
    select
        order_id,
        gateway,
        gateway_charge_id as charge_id,
        amount_minor,
        currency,
        attempted_at
    from (
        select
            a.*,
            row_number() over (partition by a.order_id order by a.attempted_at, a.attempt_id) as rn
        from payment_attempts as a
        inner join _orders_to_evaluate as e
            on e.order_id = a.order_id
        where a.status = 'succeeded'
    ) as ranked
    where rn = 1
),

order_charges as (
    -- the lines of the order's first successful charge, arrived by as_of (a second charge of the
    -- order is a duplicate on the line side, never this order's settlement)
    select
        e.order_id,
        l.line_id,
        l.gateway,
        l.fee_minor,
        coalesce(l.presentment_currency, l.currency) as compared_currency,
        coalesce(l.presentment_minor, l.gross_minor) as compared_minor,
        l.window_start,
        l.file_id,
        l.line_no
    from evaluated as e
    inner join first_success as f
        on f.order_id = e.order_id
    inner join settlement_lines as l
        on l.charge_id = f.charge_id
    where l.line_type = 'charge'
      and l.window_start < e.as_of
),

orders_settled_twice as (
    select order_id
    from order_charges
    group by order_id
    having count(*) > 1
),

primary_line as (
    -- the first line of each order; only orders with several lines need ranking
    select
        order_id,
        line_id,
        gateway,
        fee_minor,
        compared_currency,
        compared_minor
    from order_charges
    where order_id not in (select order_id from orders_settled_twice)
    union all
    select
        order_id,
        line_id,
        gateway,
        fee_minor,
        compared_currency,
        compared_minor
    from (
        select
            c.*,
            row_number() over (
                partition by c.order_id order by c.window_start, c.file_id, c.line_no
            ) as rn
        from order_charges as c
        where c.order_id in (select order_id from orders_settled_twice)
    ) as ranked
    where rn = 1
),

classified as (
    select
        e.order_id,
        e.window_start,
        coalesce(p.gateway, f.gateway) as gateway,
        p.line_id,
        f.currency,
        f.amount_minor as expected_minor,
        p.compared_minor as settled_minor,
        p.fee_minor,
        p.compared_currency,
        case
            when e.status = 'offline' then 'offline'
            when f.order_id is null then 'failed_attempt'
            when p.line_id is not null and p.compared_currency <> f.currency then 'currency_mismatch'
            when p.line_id is not null and p.compared_minor <> f.amount_minor then 'amount_mismatch'
            when p.line_id is not null then 'matched'
            when f.attempted_at <= e.pending_cutoff then 'order_without_settlement'
            else 'pending'
        end as state
    from evaluated as e
    left join first_success as f
        on f.order_id = e.order_id
    left join primary_line as p
        on p.order_id = e.order_id
),

final as (
    select
        'order' as item_type,
        order_id as item_id,
        window_start,
        gateway,
        state,
        order_id,
        line_id,
        currency,
        expected_minor,
        settled_minor,
        case
            when state in ('matched', 'amount_mismatch') then settled_minor - expected_minor
        end as difference_minor,
        fee_minor,
        case
            when state = 'currency_mismatch' then 'settled in ' || compared_currency
            when state = 'pending' then 'awaiting settlement within the grace period'
        end as detail
    from classified
)

select * from final
