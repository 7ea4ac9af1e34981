-- The scan itself (its start time is the "as of" of every age and horizon) and its collection errors.
CREATE OR REPLACE TEMP TABLE scan AS
SELECT scan_id, started_at, CAST(started_at AS DATE) AS as_of, status FROM scans WHERE scan_id = $scan_id;

CREATE OR REPLACE TEMP TABLE scan_errors AS
SELECT call, scope, status, code, message FROM collection_errors WHERE scan_id = $scan_id;

CREATE OR REPLACE TEMP TABLE subscriptions AS
SELECT e.scope AS subscription_id, e.payload->>'$.displayName' AS display_name
FROM evidence e WHERE e.scan_id = $scan_id AND e.kind = 'subscription';
