-- The point the ledger is read "as of" (auditor/ledger.py as_of): the scan $scan_id, or no row when it is not
-- stored. history_defaults holds the policy's campaign window for clusters not in the scan (campaigns.sql).
CREATE OR REPLACE TEMP TABLE history_as_of AS
SELECT started_at, scan_id FROM scans WHERE scan_id = $scan_id;

CREATE OR REPLACE TEMP TABLE history_defaults AS SELECT $window_hours::INTEGER AS campaign_window_hours;

SELECT started_at FROM history_as_of;
