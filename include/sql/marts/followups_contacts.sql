-- The CRM contact registry (source 000): a new contact is registered as a prospect; a successful
-- purchase makes the contact a customer (R9: contact type prospect -> customer).
insert into followup_contacts (
    contact_key, first_name, last_name, email, first_customer_id, contact_type, created_at
)
with

candidates as (
    select
        contact_key,
        first_name,
        last_name,
        email,
        customer_id,
        case when event_kind = 'contact_creation' then 'prospect' else 'customer' end as contact_type,
        event_at,
        row_number() over (partition by contact_key order by event_at, order_id) as rn
    from _followup_events
    where event_kind in ('contact_creation', 'successful_purchase')
)

select
    contact_key,
    first_name,
    last_name,
    email,
    customer_id,
    contact_type,
    event_at
from candidates
where rn = 1
  and not exists (select 1 from followup_contacts as f where f.contact_key = candidates.contact_key)
;
update followup_contacts
set
    contact_type = 'customer',
    became_customer_at = paid.first_paid_at
from (
    -- one aggregate joined in, not a correlated subquery per contact (quadratic on PostgreSQL)
    select
        contact_key,
        min(event_at) as first_paid_at
    from _followup_events
    where event_kind = 'successful_purchase'
    group by contact_key
) as paid
where followup_contacts.contact_key = paid.contact_key
  and followup_contacts.became_customer_at is null
