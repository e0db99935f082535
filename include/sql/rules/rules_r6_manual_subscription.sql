-- R6: a manually added subscription is kept even when its first payment fails.
insert into _rule_candidates
select
    order_id,
    'subscription' as aspect,
    'R6' as rule,
    20 as priority,
    'manual_subscription_kept' as result,
    'failed_initial' as tag,
    cast(null as boolean) as auto_charge,
    cast(null as boolean) as retry_eligible,
    true as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_sub || '}' as inputs
from _rules_facts
where attempt_kind = 'initial'
  and is_first_failed
  and subscription_id is not null
  and subscription_origin = 'manual'
