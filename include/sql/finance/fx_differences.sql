-- FX settlements of the window: lines presented in one currency (the order's) and settled in another.
-- Matching compares them in the presentment currency, so FX never shows as a mismatch; this step
-- reports the FX side apart:
--   converted_minor              presentment converted at the gateway's own rate when the file carries
--                                one (else the settled amount: the implied rate is reported)
--   conversion_difference_minor  settled minus converted: the gateway's rounding of its own rate
--   fx_difference_minor          settled minus presentment at the merchant's reference rate of the day
--                                (latest on or before it, from fx_reference_rates): the FX gain or loss
-- Amounts are converted in exact NUMERIC, rounded half away from zero to the settlement minor unit.
-- Binds: :window_start.
delete from fx_differences
where window_start = :window_start
;
insert into fx_differences (
    line_id, window_start, gateway, order_id, presentment_currency, presentment_minor, settlement_currency,
    settled_minor, rate_source, rate, converted_minor, conversion_difference_minor, reference_rate,
    reference_minor, fx_difference_minor
)
with

fx_lines as (
    select
        l.line_id,
        l.window_start,
        l.gateway,
        l.occurred_at,
        l.presentment_currency,
        l.presentment_minor,
        l.currency as settlement_currency,
        l.gross_minor,
        l.exchange_rate,
        r.order_id
    from settlement_lines as l
    left join reconciliation_results as r
        on r.item_type = 'settlement_line'
       and r.item_id = l.line_id
    where l.window_start = :window_start
      and l.presentment_currency is not null
      and l.presentment_minor is not null
      and l.presentment_currency <> l.currency
      and l.presentment_minor <> 0
),

reference as (
    select
        line_id,
        rate
    from (
        select
            f.line_id,
            x.rate,
            row_number() over (partition by f.line_id order by x.rate_date desc) as rn
        from fx_lines as f
        inner join fx_reference_rates as x
            on x.base_currency = f.presentment_currency
           and x.quote_currency = f.settlement_currency
           and x.rate_date <= cast(f.occurred_at as date)
    ) as ranked
    where rn = 1
),

converted as (
    select
        f.*,
        x.rate as reference_rate,
        -- presentment in major units, exact
        cast(f.presentment_minor * p.minor_unit as decimal(38, 12)) as presentment_major,
        s.major_unit as settlement_major_unit,
        cast(f.gross_minor * s.minor_unit as decimal(38, 12)) as settled_major
    from fx_lines as f
    inner join finance_currencies as p
        on p.currency = f.presentment_currency
    inner join finance_currencies as s
        on s.currency = f.settlement_currency
    left join reference as x
        on x.line_id = f.line_id
),

amounts as (
    select
        c.*,
        cast(cast(c.presentment_major * c.exchange_rate as decimal(38, 12)) * c.settlement_major_unit
             as decimal(38, 12)) as at_gateway_rate,
        cast(cast(c.presentment_major * c.reference_rate as decimal(38, 12)) * c.settlement_major_unit
             as decimal(38, 12)) as at_reference_rate
    from converted as c
),

final as (
    select
        line_id,
        window_start,
        gateway,
        order_id,
        presentment_currency,
        presentment_minor,
        settlement_currency,
        gross_minor as settled_minor,
        case when exchange_rate is not null then 'gateway' else 'implied' end as rate_source,
        coalesce(
            exchange_rate,
            cast(cast(settled_major as double precision) / cast(presentment_major as double precision)
                 as decimal(24, 12))
        ) as rate,
        case
            when exchange_rate is null then gross_minor
            else cast(sign(at_gateway_rate) * floor(abs(at_gateway_rate) + 0.5) as bigint)
        end as converted_minor,
        reference_rate,
        cast(sign(at_reference_rate) * floor(abs(at_reference_rate) + 0.5) as bigint) as reference_minor
    from amounts
)

select
    line_id,
    window_start,
    gateway,
    order_id,
    presentment_currency,
    presentment_minor,
    settlement_currency,
    settled_minor,
    rate_source,
    rate,
    converted_minor,
    settled_minor - converted_minor as conversion_difference_minor,
    reference_rate,
    reference_minor,
    settled_minor - reference_minor as fx_difference_minor
from final
