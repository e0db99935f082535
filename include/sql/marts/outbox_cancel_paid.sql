-- Cancel what is still pending once the customer has paid: the order got a successful charge or was
-- approved by hand (R12 "Approved M"), or its purchase converted (R8 links). Only rows marked
-- cancellable (failure follow-ups, the R11 workflow); a row being sent right now is left to finish.
-- Binds: :now.
update followup_outbox
set
    status = 'cancelled',
    last_error = 'customer paid',
    done_at = cast(:now as timestamp with time zone)
where status = 'pending'
  and cancellable
  and order_id is not null
  and (
      exists (
          select 1
          from payment_attempts as a
          where a.order_id = followup_outbox.order_id
            and a.status = 'succeeded'
            and a.attempted_at <= :now
      )
      or exists (
          select 1
          from orders as o
          where o.order_id = followup_outbox.order_id
            and o.status = 'approved_m'
      )
      or exists (
          select 1
          from purchases as p
          where p.purchase_id = followup_outbox.purchase_id
            and p.status = 'converted'
            and p.converted_at <= :now
      )
      or exists (
          select 1
          from attempt_links as l
          inner join purchases as p
              on p.purchase_id = l.purchase_id
          where l.order_id = followup_outbox.order_id
            and p.status = 'converted'
            and p.converted_at <= :now
      )
  )
