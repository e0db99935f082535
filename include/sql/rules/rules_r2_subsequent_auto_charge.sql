-- R2: a failed subsequent payment (2nd, 3rd ... installment) is re-attempted only when the merchant's
-- Auto Charge is Yes; beyond the source, never after a hard decline, never when an errored charge
-- may have reached the gateway, and at most :max_retries_per_order re-attempts per order.
-- Binds: :auto_charge, :max_retries_per_order.
insert into _rule_candidates
with

decided as (
    select
        f.*,
        case
            when f.outcome = 'success' then 'paid'
            when f.is_installment_unexpected then 'not_retried_installment_not_expected'
            when not :auto_charge then 'not_retried_auto_charge_off'
            when f.is_hard_declined then 'not_retried_hard_decline'
            when f.last_status = 'error' and f.last_charge_id is not null then 'not_retried_charge_unknown'
            when f.failed_attempts > :max_retries_per_order then 'not_retried_retries_exhausted'
            else 'retry'
        end as result
    from _rules_facts as f
    where f.attempt_kind = 'subsequent'
      and (f.failed_attempts > 0 or f.outcome <> 'success')
)

select
    order_id,
    'auto_charge' as aspect,
    'R2' as rule,
    10 as priority,
    result,
    'failed_subsequent' as tag,
    cast(:auto_charge as boolean) as auto_charge,
    result = 'retry' as retry_eligible,
    cast(null as boolean) as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_card || ',"merchant_auto_charge":'
        || case when :auto_charge then 'true' else 'false' end
        || ',"max_retries_per_order":' || cast(:max_retries_per_order as varchar)
        || ',"installment_expected":' || case when is_installment_unexpected then 'false' else 'true' end
        || '}' as inputs
from decided
