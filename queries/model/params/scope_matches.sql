-- Which policy scopes match each cluster of the `clusters` table. $scopes: the scope's position in the file, its
-- tags (one list per tag name of lower-cased 'name\x1fvalue' pairs: any value of each name, every name),
-- subscriptions and resource groups (lower case; an empty list does not constrain). `matched`: the positions of the
-- matching scopes in file order.
CREATE OR REPLACE TEMP TABLE cluster_scope_matches AS
WITH scopes AS (
    SELECT unnest($scopes::STRUCT(position INTEGER, tags VARCHAR[][], subscriptions VARCHAR[],
                                  resource_groups VARCHAR[])[]) AS s
)
SELECT
    c.cluster_id,
    coalesce(list(s.position ORDER BY s.position) FILTER (WHERE s.position IS NOT NULL), []::INTEGER[]) AS matched
FROM clusters c
LEFT JOIN scopes
  ON (len(s.tags) = 0 OR list_bool_and(list_transform(s.tags, lambda t: coalesce(list_has_any(c.tag_pairs, t), false))))
 AND (len(s.subscriptions) = 0 OR list_contains(s.subscriptions, c.subscription_id))
 AND (len(s.resource_groups) = 0 OR list_contains(s.resource_groups, lower(c.resource_group)))
GROUP BY c.cluster_id;

SELECT DISTINCT matched FROM cluster_scope_matches ORDER BY matched;
