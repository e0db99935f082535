-- The evidence of the touched customer records (_link_touched), normalised once and kept in
-- identity_keys: email lower-cased without its plus-tag (and without dots for Gmail, which ignores
-- them), phone as its last ten digits, and every card fingerprint their attempts used by :as_of. Each
-- record also has a 'self' row; seen_at is the latest order the key comes from, so a record (or a card)
-- whose orders all left the horizon drops out of it. Their previous keys are kept in _identity_old_keys:
-- a key a record lost changes its block too. Binds: :horizon_start, :as_of.
drop table if exists _identity_scope
;
create temporary table _identity_scope as
select
    o.customer_id,
    max(o.created_at) as seen_at
from orders as o
inner join _link_touched as t
    on t.customer_id = o.customer_id
where o.created_at >= :horizon_start
  and o.created_at < :as_of
group by o.customer_id
;
drop table if exists _identity_new_keys
;
create temporary table _identity_new_keys as
with

cleaned as (
    select
        c.customer_id,
        s.seen_at,
        nullif(lower(trim(coalesce(c.email, ''))), '') as email,
        nullif(regexp_replace(coalesce(c.phone, ''), '[^0-9]', '', 'g'), '') as phone_digits
    from customers as c
    inner join _identity_scope as s
        on s.customer_id = c.customer_id
),

split as (
    select
        *,
        split_part(split_part(email, '@', 1), '+', 1) as email_local,
        split_part(email, '@', 2) as email_domain
    from cleaned
),

normalised as (
    select
        customer_id,
        seen_at,
        case
            when email is null or email_domain = '' then null
            when email_domain in ('gmail.com', 'googlemail.com') then replace(email_local, '.', '') || '@gmail.com'
            else email_local || '@' || email_domain
        end as email_norm,
        case when length(phone_digits) >= 7 then right(phone_digits, 10) end as phone_norm
    from split
),

cards as (
    select
        o.customer_id,
        a.card_fingerprint,
        max(o.created_at) as seen_at
    from payment_attempts as a
    inner join orders as o
        on o.order_id = a.order_id
    inner join _identity_scope as s
        on s.customer_id = o.customer_id
    where o.created_at >= :horizon_start
      and o.created_at < :as_of
      and a.attempted_at < :as_of
      and a.card_fingerprint is not null
    group by o.customer_id, a.card_fingerprint
),

final as (
    select customer_id, 'self' as key_kind, customer_id as key_value, seen_at
    from normalised
    union all
    select customer_id, 'email' as key_kind, email_norm as key_value, seen_at
    from normalised
    where email_norm is not null
    union all
    select customer_id, 'phone' as key_kind, phone_norm as key_value, seen_at
    from normalised
    where phone_norm is not null
    union all
    select customer_id, 'card' as key_kind, card_fingerprint as key_value, seen_at
    from cards
)

select * from final
;
drop table if exists _identity_old_keys
;
create temporary table _identity_old_keys as
select
    k.customer_id,
    k.key_kind,
    k.key_value
from identity_keys as k
inner join _link_touched as t
    on t.customer_id = k.customer_id
where k.key_kind <> 'self'
;
-- two deletes, not one with an `or`: PostgreSQL cannot hash an `in (subquery)` under an `or` that
-- outgrows work_mem and then scans the subquery once per row (at 1M: minutes)
delete from identity_keys
where seen_at < :horizon_start
;
delete from identity_keys
where customer_id in (select customer_id from _link_touched)
;
insert into identity_keys (customer_id, key_kind, key_value, seen_at)
select customer_id, key_kind, key_value, seen_at
from _identity_new_keys
