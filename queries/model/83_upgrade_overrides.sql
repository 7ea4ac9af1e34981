-- The cluster's upgrade override (AKS-OVR-01): properties.upgradeSettings.overrideSettings { forceUpgrade, until }
-- (ClusterUpgradeSettings, ENUMS.md; ManagedClustersGet.json). `until` is a date-time with an offset, kept in UTC.
-- A value that is present but of the wrong type stays visible through its raw text and json type.
CREATE OR REPLACE TEMP TABLE cluster_override AS
SELECT
    e.scope                                                                         AS cluster_id,
    json_type(e.payload, '$.properties.upgradeSettings.overrideSettings')          AS settings_type,
    json_type(e.payload, '$.properties.upgradeSettings.overrideSettings.forceUpgrade') AS force_type,
    e.payload->>'$.properties.upgradeSettings.overrideSettings.forceUpgrade'       AS force_raw,
    CASE WHEN json_type(e.payload, '$.properties.upgradeSettings.overrideSettings.forceUpgrade') = 'BOOLEAN'
         THEN CAST(e.payload->>'$.properties.upgradeSettings.overrideSettings.forceUpgrade' AS BOOLEAN) END AS force_upgrade,
    e.payload->>'$.properties.upgradeSettings.overrideSettings.until'              AS until_raw,
    -- A date-time without an offset is read as UTC (the session time zone must not change a verdict).
    CASE WHEN regexp_matches(e.payload->>'$.properties.upgradeSettings.overrideSettings.until', '([zZ]|[+-]\d{2}:?\d{2})$')
         THEN timezone('UTC', TRY_CAST(e.payload->>'$.properties.upgradeSettings.overrideSettings.until' AS TIMESTAMPTZ))
         ELSE TRY_CAST(e.payload->>'$.properties.upgradeSettings.overrideSettings.until' AS TIMESTAMP)
    END                                                                             AS until_utc
FROM evidence e
WHERE e.scan_id = $scan_id AND e.kind = 'cluster';
