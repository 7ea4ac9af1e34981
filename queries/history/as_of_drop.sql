-- Drop what an earlier as_of on this connection built: the as-of views and the copies folded on the fly.
DROP VIEW IF EXISTS temp.history_events;
DROP VIEW IF EXISTS temp.history_snapshots;
DROP VIEW IF EXISTS temp.history_overrides;
DROP TABLE IF EXISTS temp.as_of_events;
DROP TABLE IF EXISTS temp.as_of_snapshots;
DROP TABLE IF EXISTS temp.as_of_overrides;
