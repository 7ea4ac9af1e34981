-- Schema version 5 (version 4 is scan_coverage): upgrade overrides in the upgrade ledger (docs/history.md,
-- AKS-OVR-01). An override (properties.upgradeSettings.overrideSettings with forceUpgrade true) lets an upgrade skip
-- AKS's safety checks; it is set for a few days and then removed, so a monthly scan can miss it. Every sighting is
-- kept here: each scan that saw one armed, and every Resource Graph change to the override settings (kept by Azure
-- for 14 days only). Derived from the `evidence` of committed scans by auditor/ledger.py
-- (queries/history/fold_overrides.sql), like the rest of the ledger: rebuilding it gives the same rows.
CREATE TABLE upgrade_overrides (
    override_key       VARCHAR PRIMARY KEY,   -- md5 of the identifying fields (a scan sighting: scan and cluster;
                                              -- a change: cluster, path, values, time)
    cluster_id         VARCHAR NOT NULL,      -- lower-case ARM id of the managed cluster
    source             VARCHAR NOT NULL,      -- scan | resource_change
    field              VARCHAR NOT NULL,      -- the property path (properties.upgradeSettings.overrideSettings...)
    force_upgrade      BOOLEAN,               -- forceUpgrade as seen (a scan), or as set (a change of forceUpgrade)
    until_at           TIMESTAMP,             -- UTC; until as seen (a scan), or as set (a change of until)
    previous_value     VARCHAR,               -- resource changes: the values before and after, as Azure wrote them
    new_value          VARCHAR,
    event_time         TIMESTAMP,             -- UTC; the change's time, or the scan's start for a sighting
    evidence_ref       VARCHAR NOT NULL,      -- change id, or 'scan <scan id>'
    first_seen_scan_id VARCHAR NOT NULL,
    first_seen_at      TIMESTAMP NOT NULL,    -- that scan's started_at: the ledger as of a scan is every row first
                                              -- seen at or before it
    last_seen_scan_id  VARCHAR NOT NULL,
    seen_count         INTEGER NOT NULL       -- how many scans saw it (a resource change can be returned by several)
);
