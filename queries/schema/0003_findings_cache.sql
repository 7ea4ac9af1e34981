-- Schema version 3: findings of each scan, kept once evaluated, so that `auditor trend`, the report's drift
-- section and `auditor export` read them instead of evaluating every scan again (docs/trend.md).
--
-- A cached evaluation is keyed by (scan_id, evaluator). `evaluator` is a SHA-256 over everything that decides a
-- finding: the tool version, the policy's SHA-256, the model and control queries and their metadata, the bundled
-- AKS catalog and the evaluating code. Change any of them and the key changes: a stale evaluation is never read,
-- it is simply not found and the scan is evaluated again. Scans never change once committed; should a scan's
-- evidence ever differ from what was evaluated (its digest is kept here), its evaluation is not read either.

-- One row per evaluated scan and evaluator, written in the same transaction as its findings.
CREATE TABLE evaluations (
    scan_id           VARCHAR NOT NULL,
    evaluator         VARCHAR NOT NULL,
    evidence_sha256   VARCHAR NOT NULL,       -- the scan's evidence digest when evaluated: must still match
    policy_sha256     VARCHAR NOT NULL,
    policy_source     VARCHAR NOT NULL,
    tool_version      VARCHAR NOT NULL,
    evaluated_at      TIMESTAMP NOT NULL,     -- UTC
    findings          INTEGER NOT NULL,       -- rows in `findings` for this (scan_id, evaluator)
    subscriptions     INTEGER NOT NULL,       -- fleet size as the scan saw it
    clusters          INTEGER NOT NULL,
    pools             INTEGER NOT NULL,
    versions          JSON NOT NULL,          -- control-plane minor -> clusters
    image_age_median  DOUBLE,                 -- node-image age in days at the scan date, over pools with a dated image
    image_age_p90     DOUBLE,
    PRIMARY KEY (scan_id, evaluator)
);

-- What identifies a finding across scans: control, resource (case-insensitive) and pool. A small integer per
-- identity keeps comparing 24 scans of 10,000 clusters cheap. Rows are added, never changed; the names are as
-- first seen.
CREATE TABLE finding_keys (
    key_id           INTEGER NOT NULL,       -- unique: assigned as max + 1.. in the caching transaction
    control_id       VARCHAR NOT NULL,
    resource_key     VARCHAR NOT NULL,       -- lower(resource_id)
    node_pool        VARCHAR NOT NULL,       -- '' for cluster- and fleet-level findings
    resource_id      VARCHAR NOT NULL,
    cluster          VARCHAR NOT NULL,
    resource_group   VARCHAR NOT NULL,
    subscription_id  VARCHAR NOT NULL
);

-- Every finding of an evaluated scan (all statuses), as `auditor findings` reports it.
CREATE TABLE findings (
    scan_id          VARCHAR NOT NULL,
    evaluator        VARCHAR NOT NULL,
    key_id           INTEGER NOT NULL,       -- finding_keys.key_id
    control_id       VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,        -- pass | fail | warn | unknown | waived | not_applicable
    severity         VARCHAR NOT NULL,
    resource_id      VARCHAR NOT NULL,        -- the cluster's ARM id ('' or a fleet marker for fleet-level controls)
    node_pool        VARCHAR,                 -- NULL for cluster- and fleet-level controls
    cluster          VARCHAR NOT NULL,
    resource_group   VARCHAR NOT NULL,
    subscription_id  VARCHAR NOT NULL,
    subscription_name VARCHAR NOT NULL,
    location         VARCHAR NOT NULL,
    message          VARCHAR NOT NULL,
    remediation      VARCHAR NOT NULL
);
