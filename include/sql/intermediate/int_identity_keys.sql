-- The customers whose orders linking looks at, with the evidence normalised once: email lower-cased
-- without its plus-tag (and without dots for Gmail, which ignores them), phone as its last ten digits,
-- and every card fingerprint their attempts used. Binds: :horizon_start, :as_of.
drop table if exists _identity_customers
;
create temporary table _identity_customers as
with

scope_customers as (
    select distinct customer_id
    from orders
    where created_at >= :horizon_start
      and created_at < :as_of
),

cleaned as (
    select
        c.customer_id,
        lower(trim(coalesce(c.first_name, ''))) as first_name,
        lower(trim(coalesce(c.last_name, ''))) as last_name,
        nullif(lower(trim(coalesce(c.email, ''))), '') as email,
        nullif(regexp_replace(coalesce(c.phone, ''), '[^0-9]', '', 'g'), '') as phone_digits,
        coalesce(c.created_at, c.updated_at) as created_at
    from customers as c
    inner join scope_customers as s
        on s.customer_id = c.customer_id
),

split as (
    select
        *,
        split_part(split_part(email, '@', 1), '+', 1) as email_local,
        split_part(email, '@', 2) as email_domain
    from cleaned
),

final as (
    select
        customer_id,
        first_name,
        last_name,
        case
            when email is null or email_domain = '' then null
            when email_domain in ('gmail.com', 'googlemail.com') then replace(email_local, '.', '') || '@gmail.com'
            else email_local || '@' || email_domain
        end as email_norm,
        case when length(phone_digits) >= 7 then right(phone_digits, 10) end as phone_norm,
        created_at
    from split
)

select * from final
;
drop table if exists _identity_cards
;
create temporary table _identity_cards as
select distinct
    o.customer_id,
    a.card_fingerprint
from payment_attempts as a
inner join orders as o
    on o.order_id = a.order_id
where o.created_at >= :horizon_start
  and o.created_at < :as_of
  and a.attempted_at < :as_of
  and a.card_fingerprint is not null
