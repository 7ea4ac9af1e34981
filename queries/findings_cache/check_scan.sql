-- The scan whose model tables are on this cursor (a cache write must be that scan's).
SELECT scan_id FROM scan
