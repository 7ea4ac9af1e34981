-- The cluster's upgrade override (AKS-OVR-01): properties.upgradeSettings.overrideSettings { forceUpgrade, until }
-- (ClusterUpgradeSettings, ENUMS.md; ManagedClustersGet.json). `until` is a date-time with an offset, kept in UTC.
-- A value that is present but of the wrong type stays visible through its raw text and json type. Read from the
-- payloads parsed once (cluster_payloads, queries/shape/clusters.sql).
CREATE OR REPLACE TEMP TABLE cluster_override AS
SELECT
    cluster_id,
    upgrade_settings_type,
    override_settings_type                                                  AS settings_type,
    force_upgrade_type                                                      AS force_type,
    force_upgrade_text                                                      AS force_raw,
    CASE WHEN force_upgrade_type = 'BOOLEAN' THEN CAST(force_upgrade_text AS BOOLEAN) END AS force_upgrade,
    override_until_text                                                     AS until_raw,
    -- A date-time without an offset is read as UTC (the session time zone must not change a verdict).
    CASE WHEN regexp_matches(override_until_text, '([zZ]|[+-]\d{2}:?\d{2})$')
         THEN timezone('UTC', TRY_CAST(override_until_text AS TIMESTAMPTZ))
         ELSE TRY_CAST(override_until_text AS TIMESTAMP)
    END                                                                     AS until_utc
FROM cluster_payloads;
