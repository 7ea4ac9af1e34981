-- The findings of eval_findings with `ord` from $first to $last, in that order, each as the text of its canonical
-- JSON record (integrity.findings_digest: keys sorted, compact, non-ASCII kept), one to_json of a struct whose
-- fields are in key order. to_json encodes strings as Python's json does, except the control characters it writes
-- as \u001A (upper-case hex) where Python writes \u001a: a row whose text holds '\u00' at all (a plain substring
-- test, cheaper than a pattern), or without tags, comes back as `record` (its fields) for Python to encode, and
-- `text` is NULL. `text` comes as UTF-8 bytes, to be hashed as they are. Tags and waivers come canonical from
-- digest_parts (queries/report/digest_setup.sql), embedded as JSON. The table is stored in `ord` order, so a batch
-- reads only its own row groups.
WITH encoded AS (
    SELECT
        f.ord,
        to_json({
            'cluster': f.cluster, 'control_id': f.control_id, 'evidence': f.evidence, 'location': f.location,
            'message': f.message, 'node_pool': f.node_pool, 'remediation': f.remediation,
            'resource_group': f.resource_group, 'resource_id': f.resource_id, 'severity': f.severity,
            'status': f.status, 'subscription_id': f.subscription_id, 'subscription_name': f.subscription_name,
            'tags': t.canonical::JSON, 'title': f.title, 'waiver': w.canonical::JSON
        })::VARCHAR AS text,
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
FROM (SELECT *, coalesce(contains(text, '\u00'), true) OR tags IS NULL AS suspect FROM encoded)
ORDER BY ord
