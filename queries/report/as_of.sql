-- The scan's as-of date (model table scan).
SELECT as_of FROM scan
