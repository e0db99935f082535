-- R7: a person's later change of a failed initial order's auto-charge wins over R1/R4/R5 and is never
-- overwritten: the flag is read from the order as the person left it on every run. Switched back to
-- Yes, the plan's later installments are expected again (they then follow R2); the failed initial
-- attempt itself is not re-attempted (source 001: "Initial orders will never reattempt").
insert into _rule_candidates
select
    order_id,
    'auto_charge' as aspect,
    'R7' as rule,
    30 as priority,
    'person_choice_kept' as result,
    'failed_initial' as tag,
    auto_charge,
    false as retry_eligible,
    cast(null as boolean) as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_flag || '}' as inputs
from _rules_facts
where attempt_kind = 'initial'
  and is_first_failed
  and is_person_setting
;
insert into _rule_candidates
select
    order_id,
    'subscription' as aspect,
    'R7' as rule,
    30 as priority,
    'installments_continue' as result,
    'failed_initial' as tag,
    true as auto_charge,
    cast(null as boolean) as retry_eligible,
    true as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_flag || ',' || j_sub || '}' as inputs
from _rules_facts
where attempt_kind = 'initial'
  and is_first_failed
  and is_person_setting
  and auto_charge
  and subscription_id is not null
