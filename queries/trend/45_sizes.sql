-- How many findings each scan's lists hold.
SELECT idx, list, count(*) FROM _tnew GROUP BY ALL
