-- R5: an action-set order keeps the action set's auto-charge choice; with Yes its failed initial
-- attempt may be re-attempted (the one exception to R1), within the same safety limits as R2.
-- Binds: :max_retries_per_order.
insert into _rule_candidates
with

decided as (
    select
        f.*,
        case
            when f.outcome = 'success' then 'paid'
            when not f.auto_charge then 'not_retried_action_set_said_no'
            when f.is_hard_declined then 'not_retried_hard_decline'
            when f.last_status = 'error' and f.last_charge_id is not null then 'not_retried_charge_unknown'
            when f.failed_attempts > :max_retries_per_order then 'not_retried_retries_exhausted'
            else 'retry'
        end as result
    from _rules_facts as f
    where f.attempt_kind = 'initial'
      and f.is_first_failed
      and f.origin = 'action_set'
)

select
    order_id,
    'auto_charge' as aspect,
    'R5' as rule,
    20 as priority,
    result,
    'failed_initial' as tag,
    auto_charge,
    result = 'retry' as retry_eligible,
    cast(null as boolean) as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_flag || ',' || j_card
        || ',"max_retries_per_order":' || cast(:max_retries_per_order as varchar) || '}' as inputs
from decided
