-- R8, incremental: the customer records to resolve again. A touched record can change
-- who shares a key with whom, so every record holding a key the touched records have or had is taken
-- too -- unless that key is shared by so many records it was and stays unusable (over
-- :max_block_size either way). Then the whole previous person of each of those records, so a person
-- that splits or merges is resolved whole. Only records of the horizon (a 'self' key seen since
-- :horizon_start) are resolved; the others keep their rows. Binds: :horizon_start, :max_block_size.
drop table if exists _link_affected
;
create temporary table _link_affected as
with

in_scope as (
    select customer_id
    from identity_keys
    where key_kind = 'self'
      and seen_at >= :horizon_start
),

touched_keys as (
    select customer_id, key_kind, key_value
    from _identity_old_keys
    union
    select customer_id, key_kind, key_value
    from _identity_new_keys
    where key_kind <> 'self'
),

touched_key_counts as (
    select
        key_kind,
        key_value,
        count(distinct customer_id) as touched_holders
    from touched_keys
    group by key_kind, key_value
),

holders as (
    select
        k.customer_id,
        k.key_kind,
        k.key_value
    from identity_keys as k
    inner join touched_key_counts as t
        on t.key_kind = k.key_kind
       and t.key_value = k.key_value
    where k.seen_at >= :horizon_start
),

changed_keys as (
    select
        h.key_kind,
        h.key_value
    from holders as h
    inner join touched_key_counts as t
        on t.key_kind = h.key_kind
       and t.key_value = h.key_value
    group by h.key_kind, h.key_value, t.touched_holders
    having count(distinct h.customer_id) - t.touched_holders <= :max_block_size
),

sharing as (
    select h.customer_id
    from holders as h
    inner join changed_keys as c
        on c.key_kind = h.key_kind
       and c.key_value = h.key_value
    union
    select customer_id
    from _link_touched
),

previous_persons as (
    select distinct p.person_id
    from identity_persons as p
    inner join sharing as s
        on s.customer_id = p.customer_id
),

previous_members as (
    select p.customer_id
    from identity_persons as p
    inner join previous_persons as pp
        on pp.person_id = p.person_id
),

final as (
    select customer_id from sharing
    union
    select customer_id from previous_members
)

select f.customer_id
from final as f
inner join in_scope as s
    on s.customer_id = f.customer_id
