-- Exit once the customer has paid (R11 workflow): the order got a successful charge, was approved by
-- hand, or its purchase converted (R8 links). Binds: :journey_id, :step, :any_step, :now.
update journey_instances
set
    status = 'exited',
    ended_at = cast(:now as timestamp with time zone),
    end_reason = 'paid'
where journey_id = :journey_id
  and status = 'active'
  and (cast(:any_step as boolean) or step = :step)
  and (
      exists (
          select 1
          from payment_attempts as a
          where a.order_id = journey_instances.order_id
            and a.status = 'succeeded'
            and a.attempted_at <= :now
      )
      or exists (
          select 1
          from attempt_links as l
          inner join purchases as p
              on p.purchase_id = l.purchase_id
          where l.order_id = journey_instances.order_id
            and p.status = 'converted'
            and p.converted_at <= :now
      )
  )
