-- Instances that ran through their last step are complete. Binds: :journey_id.
update journey_instances
set
    status = 'completed',
    ended_at = entered_at,
    end_reason = 'completed'
where journey_id = :journey_id
  and status = 'active'
  and step = 'end'
