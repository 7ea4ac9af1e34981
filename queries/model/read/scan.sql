-- The model's scan: its start and its "as of" date.
SELECT started_at, as_of FROM scan;
