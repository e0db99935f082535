-- What stands between a month and its close: every settlement line, order and payout of the month's
-- windows that is neither in a final state nor an explained (resolved) exception, and every open
-- exception of the month (a fee variance on a matched line included).
-- Binds: :month_start, :month_end.
with

items as (
    select
        m.item_type,
        m.item_id,
        m.window_start,
        m.gateway,
        m.currency,
        m.state,
        m.exception_id,
        m.detail
    from finance_matches as m
    where m.window_start >= :month_start
      and m.window_start < :month_end
      and m.item_type in ('settlement_line', 'order', 'payout')
      and m.state not in (
        'matched', 'written_off', 'refund', 'chargeback_reversal', 'fee', 'adjustment', 'payout', 'tied',
        'failed_attempt', 'offline', 'force_matched', 'disputed', 'refunded'
      )
),

open_exceptions as (
    select
        e.item_type,
        e.item_id,
        e.window_start,
        e.gateway,
        e.currency,
        'open_exception' as state,
        e.exception_id,
        e.kind || ': ' || coalesce(e.detail, '') as detail
    from exceptions as e
    where e.window_start >= :month_start
      and e.window_start < :month_end
      and e.status = 'open'
      and not exists (
        select 1 from items as i where i.exception_id = e.exception_id
      )
),

final as (
    select * from items
    union all
    select * from open_exceptions
)

select *
from final
order by window_start, item_type, item_id
