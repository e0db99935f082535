-- R1: a failed initial order from the cart, an order form, a manual order on a saved card or a
-- campaign "Create order" step is tagged failed_initial, auto-charge No, and never retried.
insert into _rule_candidates
select
    order_id,
    'auto_charge' as aspect,
    'R1' as rule,
    10 as priority,
    case when outcome = 'success' then 'paid_later_not_retried' else 'not_retried' end as result,
    'failed_initial' as tag,
    false as auto_charge,
    false as retry_eligible,
    cast(null as boolean) as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_flag || '}' as inputs
from _rules_facts
where attempt_kind = 'initial'
  and is_first_failed
  and origin in ('shopping_cart', 'order_form', 'legacy_order_form', 'manual', 'campaign')
