-- Invariants of a finance window, as one count of violations (0 = publishable):
-- every settlement line and every order of the window has exactly one finance state (the key makes it
-- at most one), no finance state without its item, and every item in an exception state names an
-- exception that exists.
-- Binds: :window_start.
select
    (
        select count(*)
        from settlement_lines as l
        where l.window_start = :window_start
          and not exists (
                select 1 from finance_matches as m
                where m.item_type = 'settlement_line' and m.item_id = l.line_id
            )
    )
    + (
        select count(*)
        from reconciliation_results as r
        where r.item_type = 'order'
          and r.window_start = :window_start
          and not exists (
                select 1 from finance_matches as m
                where m.item_type = 'order' and m.item_id = r.item_id
            )
    )
    + (
        select count(*)
        from finance_matches as m
        where m.item_type = 'settlement_line'
          and m.window_start = :window_start
          and not exists (select 1 from settlement_lines as l where l.line_id = m.item_id)
    )
    + (
        select count(*)
        from finance_matches as m
        where m.decided_state = 'exception'
          and m.window_start = :window_start
          and not exists (select 1 from exceptions as e where e.exception_id = m.exception_id)
    )
    as violations
