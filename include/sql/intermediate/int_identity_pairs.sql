-- Candidate pairs among the records to resolve: two records are compared only when they share a
-- usable email, phone or card (_identity_blocked, from int_identity_blocks or int_identity_blocks_all),
-- so the work grows with the evidence, not with the square of the customers. Scored in Python (name
-- similarity), decided there; the records' created_at (_identity_customers) name a group's person (its
-- earliest record).
-- Pairs that cannot be one person are dropped here: two records sharing no email match only when both
-- names agree (similarity >= :device_name_min, i.e. an indel distance <= (1 - min) * the two lengths),
-- and the edit distance never exceeds the indel distance, so a pair whose first or last names are
-- further apart cannot match. Phones shared by a household or a call centre give millions of such pairs.
-- The edit distance counts bytes on DuckDB (and PostgreSQL's stops at 255 characters): only pairs of
-- plain names (printable ASCII, short: `is_plain`) are dropped by it. The bound is computed in double
-- precision: PostgreSQL types a bound float as numeric, whose arithmetic over the ~16M compared pairs of a
-- 1M-order day cost seconds.
-- Binds: :device_name_min.
drop table if exists _identity_pairs
;
create temporary table _identity_pairs as
with

blocked as (
    select
        customer_id,
        key_kind,
        key_value
    from _identity_blocked
),

usable_emails as (
    select
        customer_id,
        key_value as email
    from blocked
    where key_kind = 'email'
),

named as (
    select
        b.customer_id,
        b.key_kind,
        b.key_value,
        e.email,
        c.first_name,
        c.last_name,
        c.is_plain
    from blocked as b
    inner join _identity_customers as c
        on c.customer_id = b.customer_id
    left join usable_emails as e
        on e.customer_id = b.customer_id
),

shared as (
    select
        a.customer_id as left_id,
        b.customer_id as right_id,
        a.key_kind
    from named as a
    inner join named as b
        on b.key_kind = a.key_kind
       and b.key_value = a.key_value
       and b.customer_id > a.customer_id
    where a.email = b.email
       or case
           when a.first_name = b.first_name and a.last_name = b.last_name then true
           when not (a.is_plain and b.is_plain) then true
           -- the cheap bound first: an edit distance is at least the difference of the lengths
           when abs(length(a.first_name) - length(b.first_name))
               > (1 - cast(:device_name_min as double precision)) * (length(a.first_name) + length(b.first_name)) + 0.000001 then false
           when abs(length(a.last_name) - length(b.last_name))
               > (1 - cast(:device_name_min as double precision)) * (length(a.last_name) + length(b.last_name)) + 0.000001 then false
           when levenshtein(a.first_name, b.first_name)
               > (1 - cast(:device_name_min as double precision)) * (length(a.first_name) + length(b.first_name)) + 0.000001 then false
           else levenshtein(a.last_name, b.last_name)
               <= (1 - cast(:device_name_min as double precision)) * (length(a.last_name) + length(b.last_name)) + 0.000001
       end
),

pairs as (
    select
        left_id,
        right_id,
        max(case when key_kind = 'email' then 1 else 0 end) as same_email,
        max(case when key_kind = 'phone' then 1 else 0 end) as same_phone,
        max(case when key_kind = 'card' then 1 else 0 end) as same_card
    from shared
    group by left_id, right_id
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
        r.last_name as right_last,
        l.created_at as left_created_at,
        r.created_at as right_created_at
    from pairs as p
    inner join _identity_customers as l
        on l.customer_id = p.left_id
    inner join _identity_customers as r
        on r.customer_id = p.right_id
)

select * from final
