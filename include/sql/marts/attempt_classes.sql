-- Every payment attempt of the window, classified: initial or subsequent (orders.installment_no),
-- where the order came from, and how it ended (success; card failure with a soft or hard decline;
-- an error other than a card failure). Binds: :window_start, :window_end.
delete from attempt_classes
where window_start = :window_start
;
insert into attempt_classes (
    attempt_id, order_id, window_start, attempted_at, attempt_kind, origin, outcome,
    decline_code, decline_class, error_code, card_fingerprint
)
with

window_attempts as (
    select *
    from payment_attempts
    where attempted_at >= :window_start
      and attempted_at < :window_end
),

final as (
    select
        a.attempt_id,
        a.order_id,
        cast(:window_start as timestamp with time zone) as window_start,
        a.attempted_at,
        case when coalesce(o.installment_no, 1) <= 1 then 'initial' else 'subsequent' end as attempt_kind,
        coalesce(o.origin, 'unknown') as origin,
        case
            when a.status = 'succeeded' then 'success'
            when a.status = 'error' then 'error'
            else 'card_failure'
        end as outcome,
        a.decline_code,
        case
            when a.status <> 'declined' then null
            when h.decline_code is not null then 'hard'
            else 'soft'
        end as decline_class,
        a.error_code,
        a.card_fingerprint
    from window_attempts as a
    left join orders as o
        on o.order_id = a.order_id
    left join _hard_decline_codes as h
        on h.decline_code = a.decline_code
)

select * from final
