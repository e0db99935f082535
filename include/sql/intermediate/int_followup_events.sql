-- A window's follow-up events, one row per (event kind, order) or per new contact (R9, R10, R12).
-- Events happen in [window_start, window_end); rows edited during the window whose event happened
-- since :lookback_start are taken again (late-arriving data); the outbox key makes that harmless (R15).
-- Binds: :window_start, :window_end, :lookback_start, :allow_offline, :contact_grace_minutes.
drop table if exists _followup_events
;
create temporary table _followup_events as
with

attempts_in_scope as (
    select
        a.order_id,
        a.status,
        a.attempted_at
    from payment_attempts as a
    where a.attempted_at < :window_end
      and (
          a.attempted_at >= :window_start
          or (
              a.updated_at >= :window_start
              and a.updated_at < :window_end
              and a.attempted_at >= :lookback_start
          )
      )
      and a.status in ('succeeded', 'declined', 'error')
),

attempt_events as (
    -- succeeded: successful purchase; declined (card failure): failed purchase; error: error purchase
    select
        order_id,
        case status
            when 'succeeded' then 'successful_purchase'
            when 'declined' then 'failed_purchase'
            else 'error_purchase'
        end as event_kind,
        min(attempted_at) as event_at
    from attempts_in_scope
    group by order_id, status
),

orders_in_scope as (
    select o.*
    from orders as o
    where o.created_at < :window_end
      and (
          o.created_at >= :window_start
          or (
              o.updated_at >= :window_start
              and o.updated_at < :window_end
              and o.created_at >= :lookback_start
          )
      )
),

purchase_events as (
    -- a successful purchase is an initial order; failures count on every installment (source 000:
    -- "including subscriptions that billed successfully in the past"). With offline orders allowed, the
    -- buyer of an offline order was told it would succeed: no failure message for it (R12).
    select
        e.event_kind,
        e.event_at,
        o.order_id
    from attempt_events as e
    inner join orders as o
        on o.order_id = e.order_id
    where (e.event_kind <> 'successful_purchase' or o.installment_no = 1)
      and not (
          cast(:allow_offline as boolean)
          and o.status in ('offline', 'approved_m')
          and e.event_kind <> 'successful_purchase'
      )
),

offline_events as (
    select
        'offline_order' as event_kind,
        o.created_at as event_at,
        o.order_id
    from orders_in_scope as o
    where cast(:allow_offline as boolean)
      and o.status = 'offline'
),

placed as (
    -- initial orders placed: their buyers, keyed on first name, last name and email (source 000)
    select
        o.order_id,
        o.created_at,
        lower(trim(coalesce(c.first_name, ''))) as first_key,
        lower(trim(coalesce(c.last_name, ''))) as last_key,
        lower(trim(coalesce(c.email, ''))) as email_key
    from orders_in_scope as o
    inner join customers as c
        on c.customer_id = o.customer_id
    where o.installment_no = 1
),

same_contact as (
    -- every customer record that matches a buyer on the three fields
    select
        p.order_id,
        c.customer_id,
        c.created_at
    from placed as p
    inner join customers as c
        on lower(trim(coalesce(c.first_name, ''))) = p.first_key
       and lower(trim(coalesce(c.last_name, ''))) = p.last_key
       and lower(trim(coalesce(c.email, ''))) = p.email_key
),

contact_events as (
    -- new contact: the contact's first order ever, and no matching record existed well before it
    select
        'contact_creation' as event_kind,
        p.created_at as event_at,
        p.order_id
    from placed as p
    where not exists (
        select 1
        from same_contact as s
        inner join orders as o2
            on o2.customer_id = s.customer_id
        where s.order_id = p.order_id
          and (o2.created_at < p.created_at or (o2.created_at = p.created_at and o2.order_id < p.order_id))
    )
      and not exists (
          select 1
          from same_contact as s
          where s.order_id = p.order_id
            and s.created_at < p.created_at - cast(:contact_grace_minutes as integer) * interval '1 minute'
      )
),

all_events as (
    select * from purchase_events
    union all
    select * from offline_events
    union all
    select * from contact_events
),

final as (
    select
        e.event_kind,
        e.event_at,
        o.order_id,
        o.customer_id,
        o.product_id,
        o.origin,
        o.subscription_id is not null as is_subscription,
        o.installment_no,
        case when e.event_kind = 'contact_creation' then null else l.purchase_id end as purchase_id,
        md5(
            lower(trim(coalesce(c.first_name, ''))) || '|'
            || lower(trim(coalesce(c.last_name, ''))) || '|'
            || lower(trim(coalesce(c.email, '')))
        ) as contact_key,
        c.first_name,
        c.last_name,
        c.email
    from all_events as e
    inner join orders as o
        on o.order_id = e.order_id
    left join customers as c
        on c.customer_id = o.customer_id
    left join attempt_links as l
        on l.order_id = o.order_id
)

select
    *,
    case
        when event_kind = 'contact_creation' then 'contact:' || contact_key
        else 'order:' || order_id
    end as subject_ref
from final
