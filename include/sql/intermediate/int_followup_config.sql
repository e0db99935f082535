-- The follow-up configuration as three small temp tables, filled from include/config/actions.yaml by
-- payrecon.followups.plan_tables (a few dozen rows: config size, not data size).
--   _followup_actions: which action runs for which event kind, origin and product (R9, R10)
--   _followup_journey_triggers: which event and product starts which journey (R11, R13)
--   _followup_journey_actions: which actions a journey's send step queues
drop table if exists _followup_actions
;
create temporary table _followup_actions (
    event_kind text not null,
    scope text not null,
    product_id text,
    origin text not null,
    replaces_defaults boolean not null,
    action_id text,
    channel text,
    template text,
    recipient_literal text,
    team text,
    customer_facing boolean,
    cancellable boolean,
    delay_minutes integer
)
;
drop table if exists _followup_journey_triggers
;
create temporary table _followup_journey_triggers (
    journey_id text not null,
    event_kind text not null,
    product_id text not null,
    subscription_only boolean not null,
    first_step text not null,
    first_wait_days integer not null
)
;
drop table if exists _followup_journey_actions
;
create temporary table _followup_journey_actions (
    journey_id text not null,
    step text not null,
    action_id text not null,
    channel text not null,
    template text,
    recipient_literal text,
    team text,
    customer_facing boolean not null,
    cancellable boolean not null,
    delay_minutes integer not null
)
