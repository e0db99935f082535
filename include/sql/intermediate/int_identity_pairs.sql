-- Candidate pairs among the records to resolve (_link_affected, _identity_customers): only records that
-- share an email, a phone or a card are ever compared (blocking), so the work grows with the evidence,
-- not with the square of the customers. A key shared by more than :max_block_size records of the
-- horizon (a shop's test card, a placeholder phone) says nothing about a person and is skipped; blocks
-- are counted over all of identity_keys. Scored in Python (name similarity), decided there.
-- Binds: :horizon_start, :max_block_size.
drop table if exists _identity_pairs
;
create temporary table _identity_pairs as
with

blocked_all as (
    select
        k.customer_id,
        k.key_kind,
        k.key_value
    from identity_keys as k
    inner join _link_affected as a
        on a.customer_id = k.customer_id
    where k.key_kind <> 'self'
      and k.seen_at >= :horizon_start
),

block_keys as (
    select distinct
        key_kind,
        key_value
    from blocked_all
),

usable_keys as (
    select
        k.key_kind,
        k.key_value
    from identity_keys as k
    inner join block_keys as b
        on b.key_kind = k.key_kind
       and b.key_value = k.key_value
    where k.seen_at >= :horizon_start
    group by k.key_kind, k.key_value
    having count(distinct k.customer_id) between 2 and :max_block_size
),

blocked as (
    select
        k.customer_id,
        k.key_kind,
        k.key_value
    from blocked_all as k
    inner join usable_keys as u
        on u.key_kind = k.key_kind and u.key_value = k.key_value
),

pairs as (
    select
        a.customer_id as left_id,
        b.customer_id as right_id,
        max(case when a.key_kind = 'email' then 1 else 0 end) as same_email,
        max(case when a.key_kind = 'phone' then 1 else 0 end) as same_phone,
        max(case when a.key_kind = 'card' then 1 else 0 end) as same_card
    from blocked as a
    inner join blocked as b
        on b.key_kind = a.key_kind
       and b.key_value = a.key_value
       and b.customer_id > a.customer_id
    group by a.customer_id, b.customer_id
),

final as (
    select
        p.left_id,
        p.right_id,
        p.same_email,
        p.same_phone,
        p.same_card,
        l.first_name as left_first,
        l.last_name as left_last,
        r.first_name as right_first,
        r.last_name as right_last
    from pairs as p
    inner join _identity_customers as l
        on l.customer_id = p.left_id
    inner join _identity_customers as r
        on r.customer_id = p.right_id
)

select * from final
