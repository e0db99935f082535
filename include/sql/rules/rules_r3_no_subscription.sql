-- R3: when a subscription's or payment plan's first payment fails, no subscription is started and no
-- installments are expected; an installment that shows up anyway is flagged and never retried.
-- Manual subscriptions (R6) and a person's switch back to auto-charge (R7) outrank this.
insert into _rule_candidates
select
    order_id,
    'subscription' as aspect,
    'R3' as rule,
    10 as priority,
    case
        when attempt_kind = 'initial' then 'subscription_not_started'
        else 'installment_not_expected'
    end as result,
    case when attempt_kind = 'initial' then 'failed_initial' else 'unexpected_installment' end as tag,
    cast(null as boolean) as auto_charge,
    false as retry_eligible,
    false as installments_expected,
    '{' || j_order || ',' || j_outcome || ',' || j_sub || '}' as inputs
from _rules_facts
where subscription_id is not null
  and (
      (attempt_kind = 'initial' and is_first_failed)
      or is_installment_unexpected
  )
