-- 45_sizes.sql without the lists: how many findings each scan's lists hold, from scan $offset on, counted from the
-- view _tchanges (41_new_resolved.sql) without materialising it.
SELECT idx, list, count(*) FROM _tchanges WHERE idx >= $offset GROUP BY ALL
