-- What the templates need for the rows this dispatcher holds: customer, order, product and the
-- order's latest failure code. No card data beyond what the contract allows. Binds: :worker_id.
with

claimed as (
    select *
    from followup_outbox
    where claimed_by = :worker_id
      and status = 'sending'
),

last_failure as (
    select
        order_id,
        decline_code,
        error_code
    from (
        select
            a.order_id,
            a.decline_code,
            a.error_code,
            row_number() over (partition by a.order_id order by a.attempted_at desc, a.attempt_id desc) as rn
        from payment_attempts as a
        where a.status in ('declined', 'error')
          and a.order_id in (select order_id from claimed)
    ) as ranked
    where rn = 1
),

final as (
    select
        o.outbox_id,
        o.idempotency_key,
        o.event_kind,
        o.action_id,
        o.channel,
        o.template,
        o.recipient,
        o.team,
        o.attempts,
        o.order_id,
        o.purchase_id,
        o.journey_instance_id,
        o.journey_step,
        o.customer_id,
        c.first_name,
        c.last_name,
        c.email,
        c.phone,
        o.product_id,
        p.name as product_name,
        p.kind as product_kind,
        ord.total_minor,
        ord.currency,
        ord.created_at as order_created_at,
        ord.installment_no,
        ord.subscription_id,
        ord.origin,
        ord.status as order_status,
        f.decline_code,
        f.error_code
    from claimed as o
    left join customers as c
        on c.customer_id = o.customer_id
    left join orders as ord
        on ord.order_id = o.order_id
    left join products as p
        on p.product_id = o.product_id
    left join last_failure as f
        on f.order_id = o.order_id
)

select * from final
order by outbox_id
