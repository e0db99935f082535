-- Totals of the period by gateway and currency, in integer minor units, never summed across
-- currencies. Ordered: orders of the period's windows that were charged (failed attempts and
-- offline orders are not sales; an offline order counts once approved by hand, R12), at the charged
-- amount. Settled: the lines of the settlement files of the period's windows, signed as the gateway
-- reports them (refunds, chargebacks and fees negative), so net = gross + fees + refunds +
-- chargebacks + adjustments. Binds: :period_start, :period_end.
with

charged as (
    select
        gateway,
        currency,
        count(*) as orders_charged,
        sum(expected_minor) as ordered_minor
    from reconciliation_results
    where item_type = 'order'
      and window_start >= :period_start
      and window_start < :period_end
      and state not in ('failed_attempt', 'offline')
    group by gateway, currency
),

settled as (
    select
        gateway,
        currency,
        sum(case when line_type = 'charge' then 1 else 0 end) as charge_lines,
        sum(case when line_type = 'charge' then gross_minor else 0 end) as settled_gross_minor,
        sum(case when line_type = 'fee' then gross_minor else 0 end) - sum(fee_minor) as fees_minor,
        sum(case when line_type = 'refund' then gross_minor else 0 end) as refunds_minor,
        sum(case when line_type = 'chargeback' then gross_minor else 0 end) as chargebacks_minor,
        sum(case when line_type = 'adjustment' then gross_minor else 0 end) as adjustments_minor,
        sum(case when line_type <> 'payout' then net_minor else 0 end) as net_minor,
        sum(case when line_type = 'payout' then gross_minor else 0 end) as payouts_minor
    from settlement_lines
    where window_start >= :period_start
      and window_start < :period_end
    group by gateway, currency
),

keys as (
    select gateway, currency from charged
    union
    select gateway, currency from settled
),

final as (
    select
        k.gateway,
        k.currency,
        cast(coalesce(c.orders_charged, 0) as bigint) as orders_charged,
        cast(coalesce(c.ordered_minor, 0) as bigint) as ordered_minor,
        cast(coalesce(s.charge_lines, 0) as bigint) as charge_lines,
        cast(coalesce(s.settled_gross_minor, 0) as bigint) as settled_gross_minor,
        cast(coalesce(s.fees_minor, 0) as bigint) as fees_minor,
        cast(coalesce(s.refunds_minor, 0) as bigint) as refunds_minor,
        cast(coalesce(s.chargebacks_minor, 0) as bigint) as chargebacks_minor,
        cast(coalesce(s.adjustments_minor, 0) as bigint) as adjustments_minor,
        cast(coalesce(s.net_minor, 0) as bigint) as net_minor,
        cast(coalesce(s.payouts_minor, 0) as bigint) as payouts_minor
    from keys as k
    left join charged as c
        on c.gateway = k.gateway
       and c.currency = k.currency
    left join settled as s
        on s.gateway = k.gateway
       and s.currency = k.currency
)

select * from final
order by currency, gateway
