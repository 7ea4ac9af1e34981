-- The distinct JSON texts of the findings' tags and waivers (a few per cluster at most): integrity.py encodes each
-- once in the canonical form, for queries/report/findings_json.sql to splice into every finding's record.
SELECT 'tags' AS kind, tags AS text FROM (SELECT DISTINCT tags FROM eval_findings WHERE tags IS NOT NULL)
UNION ALL
SELECT 'waiver', waiver FROM (SELECT DISTINCT waiver FROM eval_findings WHERE waiver IS NOT NULL)
ORDER BY kind, text;
