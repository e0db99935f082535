-- Age every open exception to this run's as-of (never the wall clock; the aged-to as-of only moves
-- forward, so a re-run of an earlier window leaves ages as they are). Buckets: <1d, 1-3d, 3-7d,
-- 7-30d, >30d.
-- Binds: :as_of.
update exceptions
set aged_as_of = greatest(aged_as_of, cast(:as_of as timestamp with time zone))
where status = 'open'
;
update exceptions
set
    age_days = greatest(0, cast(floor(extract(epoch from (aged_as_of - opened_at)) / 86400) as integer)),
    age_bucket = case
        when aged_as_of - opened_at < interval '1 day' then '<1d'
        when aged_as_of - opened_at < interval '3 days' then '1-3d'
        when aged_as_of - opened_at < interval '7 days' then '3-7d'
        when aged_as_of - opened_at < interval '30 days' then '7-30d'
        else '>30d'
    end
where status = 'open'
   or exception_id in (select exception_id from _fin_new_exceptions)
