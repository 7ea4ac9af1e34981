-- The candidate upgrade overrides of one scan (fold_override_candidates), which the target's merge file
-- (fold_into_ledger.sql or fold_into_as_of.sql) writes. Runs after fold_scan.sql, whose fold_scan names the scan and
-- whose fold_clusters holds its cluster payloads as queries/shape/clusters.sql parses them. docs/history.md.
--   * a sighting: a cluster of this scan whose overrideSettings has forceUpgrade true (one row per scan and cluster)
--   * a change: a Resource Graph resource change of properties.upgradeSettings, .overrideSettings, or its
--     forceUpgrade / until (one row per change, however many scans return it)
CREATE OR REPLACE TEMP TABLE fold_override_candidates AS
WITH sightings AS (
    SELECT
        md5(concat_ws('|', 'scan', s.scan_id, lower(c.cluster_id))) AS override_key,
        lower(c.cluster_id) AS cluster_id,
        'scan' AS source,
        'properties.upgradeSettings.overrideSettings' AS field,
        true AS force_upgrade,
        CASE WHEN regexp_matches(c.override_until_text, '([zZ]|[+-]\d{2}:?\d{2})$')
             THEN timezone('UTC', TRY_CAST(c.override_until_text AS TIMESTAMPTZ))
             ELSE TRY_CAST(c.override_until_text AS TIMESTAMP)
        END AS until_at,
        NULL::VARCHAR AS previous_value,
        c.override_until_text AS new_value,
        s.started_at AS event_time,
        'scan ' || s.scan_id AS evidence_ref
    FROM fold_clusters c
    JOIN fold_scan s USING (scan_id)
    WHERE c.force_upgrade_type = 'BOOLEAN' AND CAST(c.force_upgrade_text AS BOOLEAN)
),
rows AS (
    SELECT
        e.scope AS change_id,
        lower(e.payload->>'$.properties.targetResourceId') AS cluster_id,
        timezone('UTC', TRY_CAST(e.payload->>'$.properties.changeAttributes.timestamp' AS TIMESTAMPTZ)) AS t,
        unnest(map_entries(TRY_CAST(e.payload->'$.properties.changes' AS MAP(VARCHAR, JSON)))) AS c
    FROM evidence e
    JOIN fold_scan USING (scan_id)
    WHERE e.kind = 'resource_change'
),
changes AS (
    SELECT
        md5(concat_ws('|', 'resource_change', cluster_id, lower(c.key), coalesce(c.value->>'$.previousValue', '<null>'),
                      coalesce(c.value->>'$.newValue', '<null>'), strftime(t, '%Y-%m-%dT%H:%M:%S.%f'))) AS override_key,
        cluster_id,
        'resource_change' AS source,
        c.key AS field,
        CASE WHEN lower(c.key) LIKE '%.forceupgrade' THEN TRY_CAST(c.value->>'$.newValue' AS BOOLEAN) END AS force_upgrade,
        CASE WHEN lower(c.key) NOT LIKE '%.until' THEN NULL
             WHEN regexp_matches(c.value->>'$.newValue', '([zZ]|[+-]\d{2}:?\d{2})$')
             THEN timezone('UTC', TRY_CAST(c.value->>'$.newValue' AS TIMESTAMPTZ))
             ELSE TRY_CAST(c.value->>'$.newValue' AS TIMESTAMP)
        END AS until_at,
        c.value->>'$.previousValue' AS previous_value,
        c.value->>'$.newValue' AS new_value,
        t AS event_time,
        change_id AS evidence_ref
    FROM rows
    WHERE t IS NOT NULL AND cluster_id IS NOT NULL AND cluster_id <> ''
      AND regexp_full_match(c.key, 'properties\.upgradeSettings(\.overrideSettings(\.(forceUpgrade|until))?)?', 'i')
)
SELECT * FROM (SELECT * FROM sightings UNION ALL BY NAME SELECT * FROM changes)
QUALIFY row_number() OVER (PARTITION BY override_key ORDER BY evidence_ref) = 1;

-- The candidates as the target's new rows would hold them (as fold.sql's fold_new_events).
CREATE OR REPLACE TEMP VIEW fold_new_overrides AS
SELECT
    c.*,
    s.scan_id AS first_seen_scan_id,
    s.started_at AS first_seen_at,
    s.scan_id AS last_seen_scan_id,
    1 AS seen_count
FROM fold_override_candidates c, fold_scan s;
