-- Stand-in for report_outbox when the warehouse has no follow-ups outbox yet: the same columns, no
-- rows, so the recovery sections still run (and say there is nothing to attribute). No binds.
drop table if exists _report_outbox
;
create temporary table _report_outbox as
select
    cast(null as varchar) as outbox_id,
    cast(null as varchar) as event_kind,
    cast(null as varchar) as order_id,
    cast(null as varchar) as purchase_id,
    cast(null as varchar) as action_id,
    cast(null as varchar) as channel,
    cast(null as varchar) as template,
    cast(null as varchar) as status,
    cast(null as timestamp with time zone) as sent_at
where 1 = 0
