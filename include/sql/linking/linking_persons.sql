-- R8: keep the person of every resolved record (identity_persons), writing only the rows that changed:
-- a re-run writes nothing, and a daily run writes the day's records, not the horizon's.
-- Needs _link_persons (customer_id, person_id, score, reason) for the records of _link_affected tied
-- to another record; every other one is a person of its own. Binds: :as_of (when a changed row was decided).
drop table if exists _persons_changed
;
create temporary table _persons_changed as
select
    a.customer_id,
    coalesce(p.person_id, a.customer_id) as person_id,
    cast(round(cast(coalesce(p.score, 1.0) as numeric(12, 6)), 4) as numeric(6, 4)) as score,
    coalesce(p.reason, 'one customer record') as reason
from _link_affected as a
left join _link_persons as p
    on p.customer_id = a.customer_id
except
select
    p.customer_id,
    p.person_id,
    p.score,
    p.reason
from identity_persons as p
inner join _link_affected as n
    on n.customer_id = p.customer_id
;
delete from identity_persons
where customer_id in (select customer_id from _persons_changed)
;
insert into identity_persons (customer_id, person_id, score, reason, as_of)
select
    customer_id,
    person_id,
    score,
    reason,
    cast(:as_of as timestamp with time zone) as as_of
from _persons_changed
