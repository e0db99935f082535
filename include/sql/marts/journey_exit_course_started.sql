-- Exit on course start (R13: "if started, end the journey for that customer"): a course_started event
-- for the customer and product at or after the checkout and not after :now. Checked at one step, or
-- at every step when :any_step. Binds: :journey_id, :step, :any_step, :now.
update journey_instances
set
    status = 'exited',
    ended_at = cast(:now as timestamp with time zone),
    end_reason = 'course_started'
where journey_id = :journey_id
  and status = 'active'
  and (cast(:any_step as boolean) or step = :step)
  and exists (
      select 1
      from course_started as cs
      where cs.customer_id = journey_instances.customer_id
        and cs.product_id = journey_instances.product_id
        and cs.started_at >= journey_instances.started_at
        and cs.started_at <= :now
  )
