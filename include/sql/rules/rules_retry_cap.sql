-- Card networks cap re-attempts per card: at most :retry_cap re-attempts in 30 days. A card's budget is
-- the cap less its declines in the 30 days before as_of and the retries already queued for it by other
-- orders; the oldest failures get the slots. Orders past the budget are decided not_retried_card_cap.
-- Binds: :retry_cap.
update _rule_winners
set retry_eligible = false,
    result = 'not_retried_card_cap',
    inputs = substr(inputs, 1, length(inputs) - 1) || ',"card_retry_cap":' || cast(:retry_cap as varchar) || '}'
where aspect = 'auto_charge'
  and order_id in (
    with

    wanted as (
        select
            w.order_id,
            f.card_fingerprint,
            f.card_declines_30d,
            row_number() over (
                partition by f.card_fingerprint order by f.last_attempted_at, w.order_id
            ) as rank_on_card
        from _rule_winners as w
        inner join _rules_facts as f
            on f.order_id = w.order_id
        where w.aspect = 'auto_charge'
          and w.retry_eligible
          and f.card_fingerprint is not null
    ),

    queued_elsewhere as (
        select
            r.card_fingerprint,
            count(*) as queued
        from retry_list as r
        where r.card_fingerprint in (select card_fingerprint from wanted)
          and r.order_id not in (select order_id from _rules_orders)
        group by r.card_fingerprint
    )

    select w.order_id
    from wanted as w
    left join queued_elsewhere as q
        on q.card_fingerprint = w.card_fingerprint
    where w.rank_on_card > :retry_cap - w.card_declines_30d - coalesce(q.queued, 0)
)
