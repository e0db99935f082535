-- The audit trail: one row per order, aspect and decided-for window, with the rule that decided, the
-- inputs it read (JSON) and the result. No wall-clock time: a re-run writes the same rows (R15); who
-- ran it and when is in decision_runs. Binds: :window_start, :window_end, :as_of.
delete from order_decisions
where window_start = :window_start
;
insert into order_decisions (
    window_start, order_id, aspect, rule, attempt_id, attempt_kind, origin, outcome, result, tag,
    auto_charge, retry_eligible, installments_expected, inputs, window_end, as_of
)
with

final as (
    select
        cast(:window_start as timestamp with time zone) as window_start,
        w.order_id,
        w.aspect,
        w.rule,
        f.attempt_id,
        f.attempt_kind,
        f.origin,
        f.outcome,
        w.result,
        w.tag,
        w.auto_charge,
        w.retry_eligible,
        w.installments_expected,
        w.inputs,
        cast(:window_end as timestamp with time zone) as window_end,
        cast(:as_of as timestamp with time zone) as as_of
    from _rule_winners as w
    inner join _rules_facts as f
        on f.order_id = w.order_id
)

select * from final
