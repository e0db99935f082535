-- The orders to re-attempt, with when. An order's row follows its latest decided window, so a re-run
-- of an older window neither duplicates it nor brings back an order a later window resolved (R15).
-- Binds: :window_start, :as_of, :retry_interval_days.
delete from retry_list
where window_start <= :window_start
  and order_id in (select order_id from _rules_orders)
;
insert into retry_list (
    order_id, attempt_id, rule, customer_id, subscription_id, installment_no, card_fingerprint,
    decline_code, failed_attempts, amount_minor, currency, last_attempted_at, next_attempt_at,
    window_start, as_of
)
with

eligible as (
    select
        w.rule,
        f.*
    from _rule_winners as w
    inner join _rules_facts as f
        on f.order_id = w.order_id
    where w.aspect = 'auto_charge'
      and w.retry_eligible
      and f.attempt_id is not null
      and not exists (
          select 1
          from order_decisions as d
          where d.order_id = w.order_id
            and d.window_start > :window_start
      )
      and not exists (
          select 1
          from retry_list as r
          where r.order_id = w.order_id
      )
),

final as (
    select
        order_id,
        attempt_id,
        rule,
        customer_id,
        subscription_id,
        installment_no,
        card_fingerprint,
        decline_code,
        failed_attempts,
        total_minor as amount_minor,
        currency,
        last_attempted_at,
        last_attempted_at + (:retry_interval_days * interval '1 day') as next_attempt_at,
        cast(:window_start as timestamp with time zone) as window_start,
        cast(:as_of as timestamp with time zone) as as_of
    from eligible
)

select * from final
