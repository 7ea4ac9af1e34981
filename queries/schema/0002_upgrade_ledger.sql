-- Schema version 2: the upgrade ledger (docs/history.md). Upgrade events seen in any scan accumulate here and
-- outlive Azure's retention. Everything in these tables is derived from the `evidence` of committed scans by
-- auditor/ledger.py (queries/history/fold_*.sql); rebuilding them from the evidence gives the same rows.

-- One upgrade event: a control plane or a node pool that moved (or started, or failed to move) from one version to
-- another, from one of three sources. `event_key` is the natural key: the same change seen by three scans is one
-- row (seen_count 3). Rows are never rewritten by later scans, except last_seen_scan_id and seen_count.
CREATE TABLE upgrade_events (
    event_key          VARCHAR PRIMARY KEY,   -- md5 over the identifying fields of the change (docs/history.md)
    cluster_id         VARCHAR NOT NULL,      -- lower-case ARM id of the managed cluster
    target             VARCHAR NOT NULL,      -- 'control_plane', a pool name, 'cluster' (a scheduled event names
                                              -- no pool), or 'agentPoolProfiles[i]' when the index maps to no pool
    pool_mode          VARCHAR,               -- System | User, from the snapshot the pool was mapped with
    kind               VARCHAR NOT NULL,      -- kubernetes | node-image
    phase              VARCHAR NOT NULL,      -- reached | requested | started | failed | scheduled | cancelled
    from_version       VARCHAR,
    to_version         VARCHAR,
    event_time         TIMESTAMP,             -- UTC; exact time, NULL for scan diffs
    window_start       TIMESTAMP NOT NULL,    -- UTC; equals event_time for exact events; for a scan diff, the
    window_end         TIMESTAMP NOT NULL,    -- previous scan's and this scan's start: the change lies in between
    source             VARCHAR NOT NULL,      -- resource_change | scheduled_event | scan_diff
    field              VARCHAR NOT NULL,      -- the property path that changed, or 'eventStatus'
    mapping            VARCHAR,               -- pool index to name: snapshot | uncertain | unmapped (pool paths only)
    note               VARCHAR,               -- what a reader should know: states, mapping doubts, event details
    evidence_ref       VARCHAR NOT NULL,      -- change id, scheduled event id, or 'scan A -> scan B'
    first_seen_scan_id VARCHAR NOT NULL,
    first_seen_at      TIMESTAMP NOT NULL,    -- that scan's started_at: history "as of" a scan is every event
                                              -- first seen at or before it
    last_seen_scan_id  VARCHAR NOT NULL,
    seen_count         INTEGER NOT NULL       -- how many scans saw it
);

-- A compact snapshot of every cluster in every folded scan: what scan diffs compare and what pool indexes of
-- resource changes are mapped with. pools keeps the agentPoolProfiles order.
CREATE TABLE upgrade_snapshots (
    scan_id               VARCHAR NOT NULL,
    cluster_id            VARCHAR NOT NULL,   -- lower-case
    taken_at              TIMESTAMP NOT NULL, -- the scan's started_at (UTC)
    name                  VARCHAR,
    tags                  JSON,
    control_plane_version VARCHAR,            -- currentKubernetesVersion, else kubernetesVersion
    pools                 STRUCT(name VARCHAR, mode VARCHAR, version VARCHAR, image VARCHAR)[] NOT NULL,
    PRIMARY KEY (scan_id, cluster_id)
);

-- Which committed scans the ledger holds. A scan missing here (the process died between the scan's commit and the
-- ledger update) is folded by the next update; evaluation folds it on the fly meanwhile, so findings never depend
-- on whether the ledger has caught up.
CREATE TABLE upgrade_ledger_scans (
    scan_id     VARCHAR PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    folded_at   TIMESTAMP NOT NULL,           -- UTC
    new_events  INTEGER NOT NULL,
    seen_events INTEGER NOT NULL
);
