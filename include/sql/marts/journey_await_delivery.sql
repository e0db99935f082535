-- An await-delivery step (source 004: "on delivery, wait up to 7 days"): move on once every message
-- of the earlier send step is done (sent, or given up on); the next step's clock starts at the last
-- delivery. Binds: :journey_id, :step, :of_step, :next_step, :next_wait_days, :now.
update journey_instances
set
    step = :next_step,
    entered_at = coalesce(
        (
            select max(o.done_at)
            from followup_outbox as o
            where o.journey_instance_id = journey_instances.instance_id
              and o.journey_step = :of_step
        ),
        cast(:now as timestamp with time zone)
    ),
    wake_at = coalesce(
        (
            select max(o.done_at)
            from followup_outbox as o
            where o.journey_instance_id = journey_instances.instance_id
              and o.journey_step = :of_step
        ),
        cast(:now as timestamp with time zone)
    ) + cast(:next_wait_days as integer) * interval '1 day'
where journey_id = :journey_id
  and status = 'active'
  and step = :step
  and not exists (
      select 1
      from followup_outbox as o
      where o.journey_instance_id = journey_instances.instance_id
        and o.journey_step = :of_step
        and o.status in ('pending', 'sending')
  )
