-- The follow-ups that can have moved a customer to pay (R9-R13): every outbox row of a failure event,
-- an offline order or a failure journey, in a temporary table the recovery sections join. Success
-- messages (welcome, invoice, post-checkout journey) and contact creation are not follow-ups of a
-- failure. No binds.
drop table if exists _report_outbox
;
create temporary table _report_outbox as
select
    outbox_id,
    event_kind,
    order_id,
    purchase_id,
    action_id,
    channel,
    template,
    status,
    sent_at
from followup_outbox
where order_id is not null
  and event_kind not in ('successful_purchase', 'contact_creation')
  and event_kind not like 'post_checkout.%'
