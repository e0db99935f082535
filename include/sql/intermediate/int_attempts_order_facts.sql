-- Everything the rules read about one order, known by :as_of (the window end): which attempt it is
-- (initial or subsequent), where it came from, how its attempts ended, the card's recent declines.
-- Attempts after :as_of are ignored, so re-running a window gives the same facts (R15).
-- The j_* columns are ready-made JSON members for the audit trail's `inputs`.
-- Needs _rules_orders and _hard_decline_codes. Binds: :as_of, :card_since (= as_of - 30 days).
drop table if exists _rules_facts
;
create temporary table _rules_facts as
with

scoped_orders as (
    select o.*
    from orders as o
    inner join _rules_orders as r
        on r.order_id = o.order_id
),

known_attempts as (
    select
        a.order_id,
        a.attempt_id,
        a.attempted_at,
        a.status,
        a.decline_code,
        a.error_code,
        a.gateway_charge_id,
        a.card_fingerprint,
        a.amount_minor,
        case when a.status = 'declined' and h.decline_code is not null then 1 else 0 end as is_hard,
        row_number() over (
            partition by a.order_id order by a.attempted_at, a.attempt_no, a.attempt_id
        ) as seq_first,
        count(*) over (partition by a.order_id) as attempts_known
    from payment_attempts as a
    inner join _rules_orders as r
        on r.order_id = a.order_id
    left join _hard_decline_codes as h
        on h.decline_code = a.decline_code
    where a.attempted_at < :as_of
),

attempt_summary as (
    select
        order_id,
        count(*) as attempts,
        sum(case when status = 'succeeded' then 1 else 0 end) as succeeded_attempts,
        sum(case when status <> 'succeeded' then 1 else 0 end) as failed_attempts,
        max(is_hard) as has_hard_decline
    from known_attempts
    group by order_id
),

first_attempt as (
    select * from known_attempts where seq_first = 1
),

last_attempt as (
    -- attempt_id is unique, so the last in (attempted_at, attempt_no, attempt_id) order is the first
    -- from the end: one sort serves both
    select * from known_attempts where seq_first = attempts_known
),

card_declines as (
    -- declines and errors per card in the 30 days before as_of: the network retry budget used
    select
        a.card_fingerprint,
        count(*) as declines_30d
    from payment_attempts as a
    where a.status <> 'succeeded'
      and a.attempted_at >= :card_since
      and a.attempted_at < :as_of
      and a.card_fingerprint in (select card_fingerprint from last_attempt)
    group by a.card_fingerprint
),

hard_cards as (
    -- a card once reported lost, stolen or closed is never charged again, on any order
    select distinct a.card_fingerprint
    from payment_attempts as a
    inner join _hard_decline_codes as h
        on h.decline_code = a.decline_code
    where a.status = 'declined'
      and a.attempted_at < :as_of
      and a.card_fingerprint in (select card_fingerprint from last_attempt)
),

subscription_first_orders as (
    -- the initial order of each subscription or payment plan touched here
    select
        o.order_id,
        o.subscription_id,
        o.auto_charge,
        o.auto_charge_set_by
    from orders as o
    where o.installment_no <= 1
      and o.subscription_id in (select subscription_id from scoped_orders)
),

subscription_starts as (
    -- the first payment of each of them (only their attempts are ranked, not the whole history)
    select
        so.subscription_id,
        so.auto_charge,
        so.auto_charge_set_by,
        fa.status as first_status
    from subscription_first_orders as so
    left join (
        select
            a.order_id,
            a.status,
            row_number() over (partition by a.order_id order by a.attempted_at, a.attempt_no, a.attempt_id) as rn
        from payment_attempts as a
        inner join subscription_first_orders as sf
            on sf.order_id = a.order_id
        where a.attempted_at < :as_of
    ) as fa
        on fa.order_id = so.order_id and fa.rn = 1
),

joined as (
    select
        o.order_id,
        o.customer_id,
        o.product_id,
        o.subscription_id,
        o.installment_no,
        o.origin,
        o.auto_charge,
        o.auto_charge_set_by,
        o.status as order_status,
        o.total_minor,
        o.currency,
        case when coalesce(o.installment_no, 1) <= 1 then 'initial' else 'subsequent' end as attempt_kind,
        coalesce(s.attempts, 0) as attempts,
        coalesce(s.succeeded_attempts, 0) as succeeded_attempts,
        coalesce(s.failed_attempts, 0) as failed_attempts,
        coalesce(s.has_hard_decline, 0) = 1 or hc.card_fingerprint is not null as is_hard_declined,
        f.status as first_status,
        l.attempt_id,
        l.status as last_status,
        l.decline_code,
        l.error_code,
        l.gateway_charge_id as last_charge_id,
        l.card_fingerprint,
        l.attempted_at as last_attempted_at,
        l.is_hard as last_is_hard,
        coalesce(cd.declines_30d, 0) as card_declines_30d,
        hc.card_fingerprint is not null as card_hard_declined,
        sub.origin as subscription_origin,
        sub.kind as subscription_kind,
        ss.first_status as subscription_first_status,
        ss.auto_charge as subscription_auto_charge,
        ss.auto_charge_set_by as subscription_auto_charge_set_by,
        o.auto_charge_set_by is not null
            and o.auto_charge_set_by not in ('system', 'api', 'action_set') as is_person_setting
    from scoped_orders as o
    left join attempt_summary as s
        on s.order_id = o.order_id
    left join first_attempt as f
        on f.order_id = o.order_id
    left join last_attempt as l
        on l.order_id = o.order_id
    left join card_declines as cd
        on cd.card_fingerprint = l.card_fingerprint
    left join hard_cards as hc
        on hc.card_fingerprint = l.card_fingerprint
    left join subscriptions as sub
        on sub.subscription_id = o.subscription_id
    left join subscription_starts as ss
        on ss.subscription_id = o.subscription_id
),

classified as (
    select
        j.*,
        case
            when j.succeeded_attempts > 0 or j.order_status = 'approved_m' then 'success'
            when j.attempts = 0 and j.order_status in ('paid', 'refunded') then 'success'
            when j.last_status = 'error' or (j.attempts = 0 and j.order_status = 'error') then 'error'
            else 'card_failure'
        end as outcome,
        case
            when j.last_status = 'declined' and j.last_is_hard = 1 then 'hard'
            when j.last_status = 'declined' then 'soft'
        end as decline_class,
        (j.first_status is not null and j.first_status <> 'succeeded')
            or (j.first_status is null and j.order_status in ('failed', 'error', 'offline')) as is_first_failed,
        -- R3 seen from a later installment: the plan's first payment failed and nothing kept it alive
        j.attempt_kind = 'subsequent'
            and j.subscription_first_status is not null
            and j.subscription_first_status <> 'succeeded'
            and coalesce(j.subscription_origin, '') <> 'manual'
            and not (
                coalesce(j.subscription_auto_charge, false)
                and j.subscription_auto_charge_set_by is not null
                and j.subscription_auto_charge_set_by not in ('system', 'api', 'action_set')
            ) as is_installment_unexpected
    from joined as j
),

rule_candidates as (
    -- the orders some rule can pick (every rule's filter implies this): only they get the JSON
    -- members, the costliest part of this step; a new rule reading other orders widens it
    select
        c.*,
        (c.attempt_kind = 'initial' and c.is_first_failed)
            or (c.attempt_kind = 'subsequent' and (c.failed_attempts > 0 or c.outcome <> 'success'))
            or c.is_installment_unexpected as is_rule_candidate
    from classified as c
),

final as (
    select
        c.*,
        case when c.is_rule_candidate then '"attempt_kind":"' || c.attempt_kind || '","origin":"' || c.origin
            || '","installment_no":' || coalesce(cast(c.installment_no as varchar), 'null') end as j_order,
        case when c.is_rule_candidate then '"outcome":"' || c.outcome
            || '","first_attempt_failed":' || case when c.is_first_failed then 'true' else 'false' end
            || ',"attempts":' || cast(c.attempts as varchar)
            || ',"failed_attempts":' || cast(c.failed_attempts as varchar)
            || ',"last_attempt_status":' || coalesce('"' || c.last_status || '"', 'null')
            || ',"decline_code":'
            || coalesce('"' || replace(replace(c.decline_code, '\', '\\'), '"', '\"') || '"', 'null')
            || ',"decline_class":' || coalesce('"' || c.decline_class || '"', 'null')
            || ',"error_code":'
            || coalesce('"' || replace(replace(c.error_code, '\', '\\'), '"', '\"') || '"', 'null') end as j_outcome,
        case when c.is_rule_candidate then '"order_auto_charge":' || case when c.auto_charge then 'true' else 'false' end
            || ',"auto_charge_set_by":'
            || coalesce('"' || replace(replace(c.auto_charge_set_by, '\', '\\'), '"', '\"') || '"', 'null')
            || ',"set_by_person":' || case when c.is_person_setting then 'true' else 'false' end end as j_flag,
        case when c.is_rule_candidate then '"subscription_id":'
            || coalesce('"' || replace(replace(c.subscription_id, '\', '\\'), '"', '\"') || '"', 'null')
            || ',"subscription_kind":' || coalesce('"' || c.subscription_kind || '"', 'null')
            || ',"subscription_origin":' || coalesce('"' || c.subscription_origin || '"', 'null')
            || ',"plan_first_payment":' || coalesce('"' || c.subscription_first_status || '"', 'null') end as j_sub,
        case when c.is_rule_candidate then '"hard_declined":' || case when c.is_hard_declined then 'true' else 'false' end
            || ',"card_declines_30d":' || cast(c.card_declines_30d as varchar)
            || ',"charge_seen_by_gateway":' || case when c.last_charge_id is null then 'false' else 'true' end end as j_card
    from rule_candidates as c
)

select * from final
