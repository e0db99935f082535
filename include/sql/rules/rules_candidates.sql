-- The scratch table every rule step adds its candidate decisions to; rules_winners picks per aspect.
-- aspect: 'auto_charge' (retry and auto-charge: R1, R2, R4, R5, R7) or 'subscription' (R3, R6, R7).
drop table if exists _rule_candidates
;
create temporary table _rule_candidates (
    order_id varchar not null,
    aspect varchar not null,
    rule varchar not null,
    priority integer not null,
    result varchar not null,
    tag varchar,
    auto_charge boolean,
    retry_eligible boolean,
    installments_expected boolean,
    inputs varchar not null
)
