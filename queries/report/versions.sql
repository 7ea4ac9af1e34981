-- Clusters per control-plane minor version.
SELECT coalesce(current_minor, 'unknown'), count(*) FROM clusters GROUP BY 1 ORDER BY 1
