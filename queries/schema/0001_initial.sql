-- Schema version 1: scans and the raw evidence they collected, keyed by scan.
-- A scan row is written in the same transaction as its evidence, so a scan is visible only once whole.

CREATE TABLE scans (
    scan_id          VARCHAR PRIMARY KEY,
    started_at       TIMESTAMP NOT NULL,          -- UTC
    finished_at      TIMESTAMP NOT NULL,          -- UTC
    status           VARCHAR NOT NULL,          -- complete | partial
    tool_version     VARCHAR NOT NULL,
    cloud            VARCHAR NOT NULL,
    endpoint         VARCHAR NOT NULL,
    scope            JSON NOT NULL,             -- what was asked for: subscriptions, management groups
    stats            JSON NOT NULL,             -- calls by kind, retries, seconds
    evidence_sha256  VARCHAR NOT NULL           -- over every evidence row of the scan, in seq order
);

-- One row per item Azure returned: a subscription, a cluster row from Resource Graph, a region's
-- kubernetesVersions body, a cluster's maintenance configuration list, a pool upgrade profile...
-- payload is the wire JSON exactly as received; request says which call produced it.
CREATE TABLE evidence (
    scan_id   VARCHAR NOT NULL,
    seq       INTEGER NOT NULL,
    kind      VARCHAR NOT NULL,
    scope     VARCHAR NOT NULL,
    request   VARCHAR NOT NULL,
    payload   JSON NOT NULL,
    PRIMARY KEY (scan_id, seq)
);

-- A call that failed for good: the evidence it would have produced is missing, so controls say unknown.
CREATE TABLE collection_errors (
    scan_id   VARCHAR NOT NULL,
    seq       INTEGER NOT NULL,
    call      VARCHAR NOT NULL,                 -- the kind of call, as in evidence.kind
    scope     VARCHAR NOT NULL,                 -- subscription, region or cluster id it concerned
    status    INTEGER,                          -- HTTP status, null for a timeout or transport error
    code      VARCHAR,
    message   VARCHAR NOT NULL,
    PRIMARY KEY (scan_id, seq)
);
