-- R4: an API order keeps the auto-charge flag it was given; R1 does not touch it. Its failed initial
-- attempt is reported but not put on the retry list (the source only promises the flag is kept).
insert into _rule_candidates
select
    order_id,
    'auto_charge' as aspect,
    'R4' as rule,
    20 as priority,
    'flag_kept_as_given' as result,
    cast(null as varchar) as tag,
    auto_charge,
    false as retry_eligible,
    cast(null as boolean) as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_flag || '}' as inputs
from _rules_facts
where attempt_kind = 'initial'
  and is_first_failed
  and origin = 'api'
