-- R8 blocking, incremental: the (record, key) rows the pairs are drawn from (_identity_blocked), for
-- the records resolved this run (_link_affected). A key is kept when at least two of those records
-- hold it (else it makes no pair) and no more than :max_block_size records of the horizon hold it (a
-- shop's test card, a placeholder phone says nothing about a person); blocks are counted over all of
-- identity_keys, so a key is judged the same whichever records a run resolves. When a run resolves every
-- record of the horizon, int_identity_blocks_all gives the same rows in one pass.
-- Binds: :horizon_start, :max_block_size.
drop table if exists _identity_blocked
;
create temporary table _identity_blocked as
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

block_sizes as (
    select
        key_kind,
        key_value,
        count(*) as holders
    from blocked_all
    group by key_kind, key_value
),

-- a key also held by records not resolved this run counts them too (identity_keys holds one row per
-- record and key); a key none of them shares with another record of the run never makes a pair
usable_keys as (
    select
        k.key_kind,
        k.key_value
    from identity_keys as k
    inner join block_sizes as b
        on b.key_kind = k.key_kind
       and b.key_value = k.key_value
    where k.seen_at >= :horizon_start
      and b.holders >= 2
    group by k.key_kind, k.key_value
    having count(*) <= :max_block_size
),

blocked as (
    select
        k.customer_id,
        k.key_kind,
        k.key_value
    from blocked_all as k
    inner join usable_keys as u
        on u.key_kind = k.key_kind
       and u.key_value = k.key_value
)

select * from blocked
