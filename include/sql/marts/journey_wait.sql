-- A wait step: when its wake_at has come (the run's logical time, never the wall clock), move on;
-- the next step starts at the moment the wait ended. Binds: :journey_id, :step, :next_step,
-- :next_wait_days, :now.
update journey_instances
set
    step = :next_step,
    entered_at = wake_at,
    wake_at = wake_at + cast(:next_wait_days as integer) * interval '1 day'
where journey_id = :journey_id
  and status = 'active'
  and step = :step
  and wake_at <= :now
