-- The bundled end-of-support table (auditor/catalog/data/os_support.csv); `priority` is its row order.
CREATE OR REPLACE TEMP TABLE os_support AS
SELECT
    o.priority, o.key, o.label, o.applies_to, o.image_family_pattern, o.os_skus, o.end_of_support::DATE AS end_of_support,
    o.images_removed::DATE AS images_removed, o.migrate_to, o.migration, o.source
FROM (SELECT unnest($os_support::STRUCT(priority INTEGER, key VARCHAR, label VARCHAR, applies_to VARCHAR,
                                        image_family_pattern VARCHAR, os_skus VARCHAR[], end_of_support VARCHAR,
                                        images_removed VARCHAR, migrate_to VARCHAR, migration VARCHAR,
                                        source VARCHAR)[]) AS o);
