-- The cluster's upgrade override (AKS-OVR-01): properties.upgradeSettings.overrideSettings { forceUpgrade, until }
-- (ClusterUpgradeSettings, ENUMS.md; ManagedClustersGet.json). `until` is a date-time with an offset, kept in UTC.
-- A value that is present but of the wrong type stays visible through its raw text and json type. Each payload is
-- parsed once (json_type / json_extract_string with a list of paths, as queries/model/10_clusters.sql does).
CREATE OR REPLACE TEMP TABLE cluster_override AS
WITH parsed AS (
    SELECT
        e.scope AS cluster_id,
        json_type(e.payload, [
            '$.properties.upgradeSettings',                            -- 1
            '$.properties.upgradeSettings.overrideSettings',           -- 2
            '$.properties.upgradeSettings.overrideSettings.forceUpgrade' -- 3
        ]) AS t,
        json_extract_string(e.payload, [
            '$.properties.upgradeSettings.overrideSettings.forceUpgrade', -- 1
            '$.properties.upgradeSettings.overrideSettings.until'         -- 2
        ]) AS v
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'cluster'
)
SELECT
    cluster_id,
    t[1]                                                                            AS upgrade_settings_type,
    t[2]                                                                            AS settings_type,
    t[3]                                                                            AS force_type,
    v[1]                                                                            AS force_raw,
    CASE WHEN t[3] = 'BOOLEAN' THEN CAST(v[1] AS BOOLEAN) END                       AS force_upgrade,
    v[2]                                                                            AS until_raw,
    -- A date-time without an offset is read as UTC (the session time zone must not change a verdict).
    CASE WHEN regexp_matches(v[2], '([zZ]|[+-]\d{2}:?\d{2})$')
         THEN timezone('UTC', TRY_CAST(v[2] AS TIMESTAMPTZ))
         ELSE TRY_CAST(v[2] AS TIMESTAMP)
    END                                                                             AS until_utc
FROM parsed;
