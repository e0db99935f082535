-- R8: keep the person of every resolved record (identity_persons), writing only the rows that changed:
-- a re-run writes nothing, and a daily run writes the day's records, not the horizon's.
-- Needs _link_persons (customer_id, person_id, score, reason) for every record of _link_affected.
-- Binds: :as_of (when a changed row was decided).
drop table if exists _persons_changed
;
create temporary table _persons_changed as
select
    customer_id,
    person_id,
    cast(round(cast(score as numeric), 4) as numeric(6, 4)) as score,
    reason
from _link_persons
except
select
    p.customer_id,
    p.person_id,
    p.score,
    p.reason
from identity_persons as p
inner join _link_persons as n
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
