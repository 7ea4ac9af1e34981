-- AKS-OS-01: the node OS of each pool, and its pool type, are still supported by AKS. The OS release is read from
-- what runs, the node image family (AKSUbuntu-2204..., AKSAzureLinux-V2..., AKSWindows-2019...); when the image
-- cannot be parsed, from an OS SKU that names one release (Ubuntu2204, Windows2019, WindowsAnnual...), never from
-- the generic Ubuntu / AzureLinux SKUs, whose release follows the Kubernetes version. End-of-support dates come
-- from the bundled table auditor/catalog/data/os_support.csv (os_support, each row with its Microsoft source).
-- `fail` once support has ended, `warn` within [os_support_warning_days] days of it, `unknown` when the OS cannot be
-- told. Availability Set pools (type AvailabilitySet) are judged the same way against their own retirement.
-- A malformed pool entry (pool_problem: null, nameless, not an object) is `unknown`, whatever it seems to say.
WITH pools AS (
    SELECT
        r.*, lower(r.image_family) AS family_key, lower(r.os_sku) AS sku_key, lower(r.pool_type) AS type_key,
        cp.os_support_warning_days AS warn_days, s.as_of
    FROM pool_rollout r
    JOIN cluster_params cp USING (cluster_id)
    CROSS JOIN scan s
),
-- A fleet has a handful of image families, SKUs and pool types: each distinct value is matched against the table
-- once (a regex per pool and row was most of this control's time), then pools join on equality.
by_image AS (
    SELECT f.family_key, min(o.priority) AS priority
    FROM (SELECT DISTINCT family_key FROM pools WHERE family_key IS NOT NULL) f
    JOIN os_support o
      ON o.applies_to = 'os' AND o.image_family_pattern <> '' AND regexp_full_match(f.family_key, o.image_family_pattern)
    GROUP BY ALL
),
by_sku AS (
    SELECT k.sku_key, min(o.priority) AS priority
    FROM (SELECT DISTINCT sku_key FROM pools WHERE sku_key IS NOT NULL) k
    JOIN os_support o
      ON o.applies_to = 'os' AND list_contains(list_transform(o.os_skus, lambda s: lower(s)), k.sku_key)
    GROUP BY ALL
),
by_type AS (
    SELECT t.type_key, min(o.priority) AS priority
    FROM (SELECT DISTINCT type_key FROM pools WHERE type_key IS NOT NULL) t
    JOIN os_support o
      ON o.applies_to = 'pool_type' AND list_contains(list_transform(o.os_skus, lambda s: lower(s)), t.type_key)
    GROUP BY ALL
),
matched AS (
    SELECT
        p.*,
        CASE WHEN i.priority IS NOT NULL THEN 'node image family' WHEN k.priority IS NOT NULL THEN 'OS SKU' END AS matched_by,
        os.label AS os_label, os.end_of_support AS os_end, os.images_removed AS os_removed,
        os.migrate_to AS os_target, os.migration AS os_migration, os.source AS os_source,
        pt.label AS type_label, pt.end_of_support AS type_end, pt.migrate_to AS type_target,
        pt.migration AS type_migration, pt.source AS type_source
    FROM pools p
    LEFT JOIN by_image i USING (family_key)
    LEFT JOIN by_sku k USING (sku_key)
    LEFT JOIN os_support os ON os.priority = coalesce(i.priority, k.priority)
    LEFT JOIN by_type t USING (type_key)
    LEFT JOIN os_support pt ON pt.priority = t.priority
),
judged AS (
    SELECT
        *,
        CASE
            WHEN pool_problem IS NOT NULL OR os_label IS NULL THEN 'unknown'
            WHEN os_end IS NULL THEN 'pass'
            WHEN os_end <= as_of THEN 'fail'
            WHEN os_end - as_of <= warn_days THEN 'warn'
            ELSE 'pass'
        END AS os_status,
        CASE
            WHEN type_label IS NULL OR type_end IS NULL THEN 'pass'
            WHEN type_end <= as_of THEN 'fail'
            WHEN type_end - as_of <= warn_days THEN 'warn'
            ELSE 'pass'
        END AS type_status
    FROM matched
),
decided AS (
    SELECT
        *,
        CASE
            WHEN pool_problem IS NOT NULL THEN 'unknown'
            WHEN 'fail' IN (os_status, type_status) THEN 'fail'
            WHEN 'warn' IN (os_status, type_status) THEN 'warn'
            WHEN os_status = 'unknown' THEN 'unknown'
            ELSE 'pass'
        END AS status,
        -- The remediation follows the retirement that decided the status: a pool type is fixed for the whole
        -- cluster, an OS per pool (remediation_variants in the metadata).
        CASE WHEN pool_problem IS NOT NULL THEN NULL
             WHEN type_status IN ('fail', 'warn') AND (type_status = 'fail' OR os_status <> 'fail') THEN type_target
             ELSE nullif(os_target, '') END AS chosen_target,
        CASE
            WHEN os_label IS NULL THEN NULL
            WHEN os_end IS NULL THEN os_label || ' (from its ' || matched_by || '): no end of support announced'
            WHEN os_status = 'fail' THEN
                os_label || ' (from its ' || matched_by || '): AKS support ended on ' || os_end || ', '
                || days_text(as_of - os_end) || ' before the scan'
                || coalesce(CASE WHEN os_removed <= as_of THEN ', and its node images were removed on ' || os_removed
                                 ELSE ', and its node images will be removed on ' || os_removed END, '')
                || ': ' || os_migration
            WHEN os_status = 'warn' THEN
                os_label || ' (from its ' || matched_by || '): AKS support ends on ' || os_end || ', in '
                || days_text(os_end - as_of) || ' (warning horizon ' || days_text(warn_days) || '): ' || os_migration
            ELSE
                os_label || ' (from its ' || matched_by || '): supported until ' || os_end || ', '
                || days_text(os_end - as_of) || ' away (warning horizon ' || days_text(warn_days) || ')'
        END AS os_text,
        CASE
            WHEN type_label IS NULL THEN NULL
            WHEN type_status = 'fail' THEN
                'it is an Availability Set pool: ' || type_label || ' were retired on AKS on ' || type_end || ', '
                || days_text(as_of - type_end) || ' before the scan: ' || type_migration
            ELSE
                'it is an Availability Set pool: ' || type_label || ' retire on ' || type_end || ', in '
                || days_text(type_end - as_of) || ': ' || type_migration
        END AS type_text
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    pool_name AS node_pool,
    status,
    CASE
        WHEN pool_problem IS NOT NULL THEN pool_problem || ': its node OS cannot be told'
        WHEN os_label IS NULL THEN
            concat_ws('; ',
                'the node OS release cannot be told: node image ' || coalesce(node_image_version, 'absent')
                || CASE WHEN image_family IS NULL THEN ' (not a recognised version)' ELSE ' (family ' || image_family || ')' END
                || ' and OS SKU ' || coalesce(os_sku, 'absent') || ' name no release the bundled end-of-support table '
                || 'knows (the generic Ubuntu and AzureLinux SKUs follow the Kubernetes version)',
                type_text)
        ELSE 'the pool runs ' || concat_ws('; ', os_text, type_text)
    END AS message,
    'type=' || coalesce(pool_type_raw, 'absent (VirtualMachineScaleSets)') || '; osType=' || os_type
        || '; osSKU=' || coalesce(os_sku, 'absent') || '; nodeImageVersion=' || coalesce(node_image_version, 'absent')
        || coalesce('; source: ' || nullif(concat_ws(', ', os_source, type_source), ''), '') AS evidence,
    chosen_target AS target
FROM decided;
