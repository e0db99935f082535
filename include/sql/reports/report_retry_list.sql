-- The retry list (R2) as it stands at the period's end: failed installments to re-attempt under the
-- merchant's Auto Charge, with when. The card fingerprint stays in the warehouse.
-- Binds: :period_end.
select
    order_id,
    customer_id,
    subscription_id,
    installment_no,
    rule,
    decline_code,
    cast(failed_attempts as bigint) as failed_attempts,
    currency,
    amount_minor,
    last_attempted_at,
    next_attempt_at
from retry_list
where window_start < :period_end
order by next_attempt_at, order_id
