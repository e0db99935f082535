-- One finance state per settlement line of the window (payout lines are decided with their payout in
-- finance/payouts). A charge line takes its match group's state; a line the foundation called
-- duplicate is part of the match when the group's lines settle it together (several captures), else a
-- duplicate exception. Refunds are tied to the charge they refund, partial refunds included;
-- chargebacks wait for finance (dispute or accept); fees and adjustments are final; a payout line
-- without a payout id cannot be tied and is an exception.
-- Binds: :window_start, :as_of.
delete from finance_matches
where item_type = 'settlement_line'
  and window_start = :window_start
;
insert into finance_matches (
    item_type, item_id, window_start, gateway, currency, group_id, match_kind, decided_state, state,
    exception_id, expected_minor, settled_minor, difference_minor, write_off_minor, detail
)
with

window_lines as (
    select
        l.*,
        r.state as recon_state
    from settlement_lines as l
    inner join reconciliation_results as r
        on r.item_type = 'settlement_line'
       and r.item_id = l.line_id
    where l.window_start = :window_start
      and (l.line_type <> 'payout' or l.payout_id is null)
),

charge_group as (
    select distinct
        charge_id,
        group_id
    from _fin_edges
),

refund_charges as (
    select distinct
        charge_id
    from window_lines
    where line_type = 'refund'
      and charge_id is not null
),

charged as (
    -- what each refunded charge settled so far, by the foundation's first (non-duplicate) lines
    select
        l.charge_id,
        sum(l.gross_minor) as charged_minor
    from settlement_lines as l
    inner join refund_charges as c
        on c.charge_id = l.charge_id
    inner join reconciliation_results as r
        on r.item_type = 'settlement_line'
       and r.item_id = l.line_id
    where l.line_type = 'charge'
      and l.window_start <= :window_start
      and r.state <> 'duplicate'
    group by l.charge_id
),

attempted as (
    select distinct
        a.gateway_charge_id as charge_id
    from payment_attempts as a
    inner join refund_charges as c
        on c.charge_id = a.gateway_charge_id
    where a.status = 'succeeded'
),

refunds_so_far as (
    select
        l.line_id,
        sum(-p.gross_minor) as refunded_minor
    from window_lines as l
    inner join settlement_lines as p
        on p.charge_id = l.charge_id
       and p.line_type = 'refund'
       and (
            p.window_start < l.window_start
            or (p.window_start = l.window_start and (p.file_id < l.file_id
                or (p.file_id = l.file_id and p.line_no <= l.line_no)))
       )
    where l.line_type = 'refund'
    group by l.line_id
),

classified as (
    select
        l.line_id,
        l.window_start,
        l.gateway,
        l.line_type,
        l.recon_state,
        coalesce(l.presentment_currency, l.currency) as compared_currency,
        coalesce(l.presentment_minor, l.gross_minor) as compared_minor,
        l.gross_minor,
        cg.group_id,
        ge.group_state,
        ge.uses_duplicates,
        ge.match_kind,
        ge.exception_id as group_exception_id,
        ge.write_off_minor,
        c.charged_minor,
        a.charge_id as attempted_charge,
        rs.refunded_minor,
        case
            when l.line_type = 'charge' and l.recon_state = 'settled_without_order' then 'exception'
            when l.line_type = 'charge' and ge.group_id is null then 'exception'
            when l.line_type = 'charge' and l.recon_state = 'duplicate' and not ge.uses_duplicates
                and ge.group_state in ('matched', 'written_off', 'pending', 'partially_settled') then 'exception'
            when l.line_type = 'charge' and ge.group_state in ('matched', 'written_off') then ge.group_state
            when l.line_type = 'charge' and ge.group_state in ('pending', 'partially_settled') then 'matched'
            when l.line_type = 'charge' then 'exception'
            when l.line_type = 'refund' and c.charged_minor is null and a.charge_id is null then 'exception'
            when l.line_type = 'refund' and c.charged_minor is not null and rs.refunded_minor > c.charged_minor
                then 'exception'
            when l.line_type = 'refund' then 'refund'
            when l.line_type = 'chargeback' and l.gross_minor < 0 then 'exception'
            when l.line_type = 'chargeback' then 'chargeback_reversal'
            when l.line_type = 'payout' then 'exception'
            else l.line_type
        end as decided_state
    from window_lines as l
    left join charge_group as cg
        on cg.charge_id = l.charge_id
       and l.line_type = 'charge'
    left join _fin_group_eval as ge
        on ge.group_id = cg.group_id
    left join charged as c
        on c.charge_id = l.charge_id
       and l.line_type = 'refund'
    left join attempted as a
        on a.charge_id = l.charge_id
       and l.line_type = 'refund'
    left join refunds_so_far as rs
        on rs.line_id = l.line_id
),

final as (
    select
        'settlement_line' as item_type,
        line_id as item_id,
        window_start,
        gateway,
        compared_currency as currency,
        group_id,
        case when decided_state in ('matched', 'written_off') and line_type = 'charge' then match_kind end
            as match_kind,
        decided_state,
        decided_state as state,
        case
            when decided_state <> 'exception' then null
            when line_type = 'charge' and recon_state = 'settled_without_order'
                then 'settled_without_order:settlement_line:' || line_id
            when line_type = 'charge' and group_id is null
                then 'settled_without_order:settlement_line:' || line_id
            when line_type = 'charge' and recon_state = 'duplicate'
                and group_state in ('matched', 'written_off', 'pending', 'partially_settled')
                then 'duplicate:settlement_line:' || line_id
            when line_type = 'charge' then group_exception_id
            when line_type = 'refund' and charged_minor is null and attempted_charge is null
                then 'refund_without_charge:settlement_line:' || line_id
            when line_type = 'refund' then 'refund_exceeds_charge:settlement_line:' || line_id
            when line_type = 'payout' then 'payout_without_id:settlement_line:' || line_id
            else 'chargeback:settlement_line:' || line_id
        end as exception_id,
        case when line_type = 'refund' then charged_minor end as expected_minor,
        compared_minor as settled_minor,
        cast(null as bigint) as difference_minor,
        case when decided_state = 'written_off' then write_off_minor end as write_off_minor,
        case
            when line_type = 'refund' and charged_minor is not null and refunded_minor < charged_minor
                then 'partial refund: ' || cast(refunded_minor as varchar) || ' of ' || cast(charged_minor as varchar)
            when line_type = 'refund' and charged_minor is null and attempted_charge is not null
                then 'refund of a charge whose settlement line has not arrived'
            when line_type = 'charge' and recon_state = 'duplicate' and uses_duplicates
                then 'one of several captures of the same order'
            when line_type = 'charge' and group_state in ('pending', 'partially_settled')
                then 'settles part of ' || group_id || ', which awaits the rest'
        end as detail
    from classified
)

select * from final
;
insert into _fin_new_exceptions (
    exception_id, kind, item_type, item_id, window_start, gateway, currency, amount_minor, detail,
    opened_at, aged_as_of, age_days, age_bucket, owner, status
)
with

line_exceptions as (
    select
        m.exception_id,
        substr(m.exception_id, 1, position(':' in m.exception_id) - 1) as kind,
        'settlement_line' as item_type,
        m.item_id,
        m.window_start,
        m.gateway,
        l.currency,
        l.gross_minor as amount_minor,
        l.occurred_at as opened_at,
        l.charge_id,
        l.source_ref
    from finance_matches as m
    inner join settlement_lines as l
        on l.line_id = m.item_id
    where m.item_type = 'settlement_line'
      and m.window_start = :window_start
      and m.exception_id like '%:settlement_line:%'
)

select
    e.exception_id,
    e.kind,
    e.item_type,
    e.item_id,
    e.window_start,
    e.gateway,
    e.currency,
    e.amount_minor,
    case e.kind
        when 'settled_without_order' then 'gateway settled charge ' || coalesce(e.charge_id, '(no charge id)')
            || ' (' || e.source_ref || ') but no order has it'
        when 'duplicate' then 'charge ' || coalesce(e.charge_id, '') || ' settled again (' || e.source_ref
            || '): refund the customer or claim it back'
        when 'refund_without_charge' then 'refund ' || e.source_ref || ' for a charge we never saw'
        when 'refund_exceeds_charge' then 'refunds of charge ' || coalesce(e.charge_id, '') || ' exceed what it settled'
        when 'payout_without_id' then 'payout line ' || e.source_ref || ' carries no payout id to tie it by'
        when 'chargeback' then 'chargeback ' || e.source_ref || ' on charge ' || coalesce(e.charge_id, '')
            || ': dispute or accept'
        else e.kind
    end as detail,
    e.opened_at,
    cast(:as_of as timestamp with time zone) as aged_as_of,
    0 as age_days,
    '<1d' as age_bucket,
    coalesce(k.owner, 'finance') as owner,
    'open' as status
from line_exceptions as e
left join finance_exception_kinds as k
    on k.kind = e.kind
