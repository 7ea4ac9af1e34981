-- Clusters per current minor version, for the cached evaluation.
SELECT coalesce(current_minor, 'unknown'), count(*) FROM clusters GROUP BY 1 ORDER BY 1
