-- The findings of eval_findings with `ord` from $first to $last, in that order, each as the text of its canonical JSON record (integrity.findings_digest:
-- keys sorted, compact, non-ASCII kept): to_json encodes the strings as Python's json does, except the control
-- characters it writes as \u001A (upper-case hex) where Python writes \u001a: a row whose text holds '\u00' at all
-- (a plain substring test, cheaper than a pattern) comes back as `record` (its fields) for Python to encode, and
-- `text` is NULL. `text` comes as UTF-8 bytes, to be hashed as they are. Tags and waivers come canonical from digest_parts
-- (queries/report/digest_setup.sql). The table is stored in `ord` order, so a batch reads only its own row groups.
WITH encoded AS (
    SELECT
        f.ord,
        '{"cluster":' || coalesce(to_json(f.cluster)::VARCHAR, 'null')
        || ',"control_id":' || coalesce(to_json(f.control_id)::VARCHAR, 'null')
        || ',"evidence":' || coalesce(to_json(f.evidence)::VARCHAR, 'null')
        || ',"location":' || coalesce(to_json(f.location)::VARCHAR, 'null')
        || ',"message":' || coalesce(to_json(f.message)::VARCHAR, 'null')
        || ',"node_pool":' || coalesce(to_json(f.node_pool)::VARCHAR, 'null')
        || ',"remediation":' || coalesce(to_json(f.remediation)::VARCHAR, 'null')
        || ',"resource_group":' || coalesce(to_json(f.resource_group)::VARCHAR, 'null')
        || ',"resource_id":' || coalesce(to_json(f.resource_id)::VARCHAR, 'null')
        || ',"severity":' || coalesce(to_json(f.severity)::VARCHAR, 'null')
        || ',"status":' || coalesce(to_json(f.status)::VARCHAR, 'null')
        || ',"subscription_id":' || coalesce(to_json(f.subscription_id)::VARCHAR, 'null')
        || ',"subscription_name":' || coalesce(to_json(f.subscription_name)::VARCHAR, 'null')
        || ',"tags":' || t.canonical
        || ',"title":' || coalesce(to_json(f.title)::VARCHAR, 'null')
        || ',"waiver":' || coalesce(w.canonical, 'null')
        || '}' AS text,
        f.*
    FROM eval_findings f
    LEFT JOIN digest_parts t ON t.kind = 'tags' AND t.raw = f.tags
    LEFT JOIN digest_parts w ON w.kind = 'waiver' AND w.raw = f.waiver
    WHERE f.ord BETWEEN $first AND $last
)
SELECT
    CASE WHEN NOT suspect THEN encode(text) END AS text,
    CASE WHEN suspect THEN {
        'control_id': control_id, 'status': status, 'severity': severity, 'resource_id': resource_id,
        'node_pool': node_pool, 'message': message, 'title': title, 'cluster': cluster,
        'subscription_id': subscription_id, 'subscription_name': subscription_name, 'resource_group': resource_group,
        'location': location, 'tags': tags, 'evidence': evidence, 'remediation': remediation, 'waiver': waiver
    } END AS record
FROM (SELECT *, coalesce(contains(text, '\u00'), true) AS suspect FROM encoded)
ORDER BY ord
