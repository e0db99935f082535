-- Tolerance write-offs: every match group settled within the merchant's tolerance but not exactly gets
-- one row with the amount written off (settled minus expected: negative is a loss), so no difference is
-- ever silently absorbed. A one-minor-unit difference is recorded as `rounding`.
-- Binds: none beyond the temporary tables of int_finance_scope and int_match_groups.
delete from write_offs
where source = 'tolerance'
  and item_type = 'match_group'
  and item_id in (select group_id from _fin_groups)
;
insert into write_offs (
    write_off_id, source, reason, item_type, item_id, window_start, gateway, currency, amount_minor,
    exception_id, resolution_id, detail
)
select
    'tolerance:' || group_id as write_off_id,
    'tolerance' as source,
    case when abs(write_off_minor) = 1 then 'rounding' else 'within_tolerance' end as reason,
    'match_group' as item_type,
    group_id as item_id,
    last_line_window as window_start,
    gateway,
    currency,
    write_off_minor as amount_minor,
    cast(null as varchar) as exception_id,
    cast(null as varchar) as resolution_id,
    'expected ' || cast(expected_minor as varchar) || ', settled ' || cast(settled_minor as varchar)
    || ', tolerance ' || cast(allowed_minor as varchar) as detail
from _fin_group_eval
where group_state = 'written_off'
  and write_off_minor <> 0
