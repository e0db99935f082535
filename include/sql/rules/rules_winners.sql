-- One decision per order and aspect: the highest-priority rule that applied (R7 > R4/R5/R6 > R1/R2/R3).
drop table if exists _rule_winners
;
create temporary table _rule_winners as
with

ranked as (
    select
        c.*,
        row_number() over (partition by c.order_id, c.aspect order by c.priority desc, c.rule) as rn
    from _rule_candidates as c
),

final as (
    select
        order_id,
        aspect,
        rule,
        priority,
        result,
        tag,
        auto_charge,
        retry_eligible,
        installments_expected,
        inputs
    from ranked
    where rn = 1
)

select * from final
