-- The findings of eval_findings in `ord` order, each as the text of its canonical JSON record
-- (integrity.findings_digest: keys sorted, compact, non-ASCII kept) after the separator of the JSON array ('' for
-- the first, `ord` 1, ',' for the others, so that the records can be hashed one by one as they come, without
-- joining them): the keys in order, each value by to_json, which encodes strings as Python's json does, except the
-- control characters it writes as \u001A (upper-case hex) where Python writes \u001a: a row whose text holds '\u00'
-- at all (a plain substring test, cheaper than a pattern), or without tags, also comes back as `record` (its
-- fields, as JSON text) for Python to encode, and `text` is its separator alone. `text` comes as UTF-8 bytes, to be
-- hashed as they are. Tags and waivers come canonical from digest_parts (queries/report/digest_setup.sql), spliced
-- in as text. One to_json per value rather than one of a struct: the struct's JSON would parse the spliced texts
-- again, and costs a fifth more.
WITH encoded AS (
    SELECT
        f.ord,
        CASE WHEN f.ord = 1 THEN '' ELSE ',' END AS separator,
        concat(
            '{"cluster":', coalesce(to_json(f.cluster), 'null'),
            ',"control_id":', coalesce(to_json(f.control_id), 'null'),
            ',"evidence":', coalesce(to_json(f.evidence), 'null'),
            ',"location":', coalesce(to_json(f.location), 'null'),
            ',"message":', coalesce(to_json(f.message), 'null'),
            ',"node_pool":', coalesce(to_json(f.node_pool), 'null'),
            ',"remediation":', coalesce(to_json(f.remediation), 'null'),
            ',"resource_group":', coalesce(to_json(f.resource_group), 'null'),
            ',"resource_id":', coalesce(to_json(f.resource_id), 'null'),
            ',"severity":', coalesce(to_json(f.severity), 'null'),
            ',"status":', coalesce(to_json(f.status), 'null'),
            ',"subscription_id":', coalesce(to_json(f.subscription_id), 'null'),
            ',"subscription_name":', coalesce(to_json(f.subscription_name), 'null'),
            ',"tags":', coalesce(t.canonical, 'null'),
            ',"title":', coalesce(to_json(f.title), 'null'),
            ',"waiver":', coalesce(w.canonical, 'null'),
            '}'
        ) AS text,
        f.*
    FROM eval_findings f
    LEFT JOIN digest_parts t ON t.kind = 'tags' AND t.raw = f.tags
    LEFT JOIN digest_parts w ON w.kind = 'waiver' AND w.raw = f.waiver
)
SELECT
    encode(CASE WHEN suspect THEN separator ELSE separator || text END) AS text,
    -- As one JSON text, which Python reads back exactly: a struct of sixteen fields, NULL on nearly every row,
    -- cost a quarter of the reading.
    CASE WHEN suspect THEN to_json({
        'control_id': control_id, 'status': status, 'severity': severity, 'resource_id': resource_id,
        'node_pool': node_pool, 'message': message, 'title': title, 'cluster': cluster,
        'subscription_id': subscription_id, 'subscription_name': subscription_name, 'resource_group': resource_group,
        'location': location, 'tags': tags, 'evidence': evidence, 'remediation': remediation, 'waiver': waiver
    })::VARCHAR END AS record
FROM (SELECT *, contains(text, '\u00') OR tags IS NULL AS suspect FROM encoded)
ORDER BY ord
