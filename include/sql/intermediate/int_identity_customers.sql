-- The names and creation time of the records to resolve (_link_affected), names trimmed and lower-cased
-- as they are compared. `is_plain`: both names printable ASCII and short, so an edit distance of them
-- counts characters on every engine (int_identity_pairs).
drop table if exists _identity_customers
;
create temporary table _identity_customers as
select
    c.customer_id,
    lower(trim(coalesce(c.first_name, ''))) as first_name,
    lower(trim(coalesce(c.last_name, ''))) as last_name,
    coalesce(c.created_at, c.updated_at) as created_at,
    (coalesce(c.first_name, '') || coalesce(c.last_name, '')) similar to '[ -~]*'
        and length(coalesce(c.first_name, '')) <= 200
        and length(coalesce(c.last_name, '')) <= 200 as is_plain
from customers as c
inner join _link_affected as a
    on a.customer_id = c.customer_id
