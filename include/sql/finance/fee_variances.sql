-- Fee check of every charge line of the window against the merchant's declared schedule (most specific
-- of gateway, card brand, settlement currency): expected = round_half_up(|gross| * rate) + fixed.
-- A variance beyond the schedule's tolerance is also an exception.
-- Binds: :window_start, :as_of.
delete from fee_variances
where window_start = :window_start
;
insert into fee_variances (
    line_id, window_start, gateway, card_brand, currency, gross_minor, fee_minor, expected_fee_minor,
    variance_minor, schedule, is_exception
)
with

charge_lines as (
    select
        l.line_id,
        l.window_start,
        l.gateway,
        l.charge_id,
        l.currency,
        l.gross_minor,
        l.fee_minor
    from settlement_lines as l
    where l.window_start = :window_start
      and l.line_type = 'charge'
),

brands as (
    select
        l.line_id,
        min(lower(a.card_brand)) as card_brand
    from charge_lines as l
    inner join payment_attempts as a
        on a.gateway_charge_id = l.charge_id
    where a.status = 'succeeded'
    group by l.line_id
),

keyed as (
    select
        l.*,
        coalesce(b.card_brand, '') as card_brand
    from charge_lines as l
    left join brands as b
        on b.line_id = l.line_id
),

schedule_keys as (
    select distinct
        gateway,
        card_brand,
        currency
    from keyed
),

schedule as (
    select *
    from (
        select
            k.gateway,
            k.card_brand,
            k.currency,
            s.fee_rate,
            s.fixed_minor,
            s.variance_tolerance_minor,
            s.gateway || '/' || s.card_brand || '/' || s.currency || ': ' || cast(cast(s.fee_rate * 100 as decimal(12, 4)) as varchar)
            || '% + ' || cast(s.fixed_minor as varchar) as description,
            row_number() over (
                partition by k.gateway, k.card_brand, k.currency order by s.specificity desc
            ) as rn
        from schedule_keys as k
        inner join finance_fee_schedules as s
            on (s.gateway = k.gateway or s.gateway = '*')
           and (s.card_brand = k.card_brand or s.card_brand = '*')
           and (s.currency = k.currency or s.currency = '*')
    ) as ranked
    where rn = 1
),

final as (
    select
        k.line_id,
        k.window_start,
        k.gateway,
        nullif(k.card_brand, '') as card_brand,
        k.currency,
        k.gross_minor,
        k.fee_minor,
        cast(floor(abs(k.gross_minor) * s.fee_rate + 0.5) as bigint) + s.fixed_minor as expected_fee_minor,
        s.variance_tolerance_minor,
        s.description
    from keyed as k
    left join schedule as s
        on s.gateway = k.gateway
       and s.card_brand = k.card_brand
       and s.currency = k.currency
)

select
    line_id,
    window_start,
    gateway,
    card_brand,
    currency,
    gross_minor,
    fee_minor,
    expected_fee_minor,
    fee_minor - expected_fee_minor as variance_minor,
    coalesce(description, 'no schedule declared') as schedule,
    coalesce(abs(fee_minor - expected_fee_minor) > variance_tolerance_minor, false) as is_exception
from final
;
insert into _fin_new_exceptions (
    exception_id, kind, item_type, item_id, window_start, gateway, currency, amount_minor, detail,
    opened_at, aged_as_of, age_days, age_bucket, owner, status
)
select
    'fee_variance:settlement_line:' || f.line_id as exception_id,
    'fee_variance' as kind,
    'settlement_line' as item_type,
    f.line_id as item_id,
    f.window_start,
    f.gateway,
    f.currency,
    f.variance_minor as amount_minor,
    'fee ' || cast(f.fee_minor as varchar) || ' against ' || cast(f.expected_fee_minor as varchar)
    || ' by the schedule (' || f.schedule || ')' as detail,
    l.occurred_at as opened_at,
    cast(:as_of as timestamp with time zone) as aged_as_of,
    0 as age_days,
    '<1d' as age_bucket,
    coalesce(k.owner, 'finance') as owner,
    'open' as status
from fee_variances as f
inner join settlement_lines as l
    on l.line_id = f.line_id
left join finance_exception_kinds as k
    on k.kind = 'fee_variance'
where f.window_start = :window_start
  and f.is_exception
