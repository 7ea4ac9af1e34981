-- One row per managed cluster of the scan, shaped from the raw Resource Graph row.
-- Enum values are kept as Azure sent them; controls compare them case-insensitively (lower()).
-- Every value is read defensively (docs/controls.md, "Malformed evidence"): a value of the wrong JSON type is never
-- cast blindly; it becomes NULL and a *_problem column says what was wrong, so the controls that need it say
-- `unknown` with that text while the rest of the scan is judged as usual.
CREATE OR REPLACE TEMP TABLE clusters AS
WITH parsed AS (
    -- Each payload is parsed once: json_type / json_extract_string with a list of paths give the values in order.
    SELECT
        e.scope AS cluster_id,
        json_type(e.payload, [
            '$.name',                                               -- 1
            '$.tags',                                               -- 2
            '$.properties',                                         -- 3
            '$.properties.supportPlan',                             -- 4
            '$.properties.currentKubernetesVersion',                -- 5
            '$.properties.kubernetesVersion',                       -- 6
            '$.properties.autoUpgradeProfile',                      -- 7
            '$.properties.autoUpgradeProfile.upgradeChannel',       -- 8
            '$.properties.autoUpgradeProfile.nodeOSUpgradeChannel', -- 9
            '$.properties.agentPoolProfiles',                       -- 10
            '$.properties.provisioningState'                        -- 11
        ]) AS t,
        json_extract_string(e.payload, [
            '$.name',                                               -- 1
            '$.subscriptionId',                                     -- 2
            '$.resourceGroup',                                      -- 3
            '$.location',                                           -- 4
            '$.sku.tier',                                           -- 5
            '$.properties.supportPlan',                             -- 6
            '$.properties.currentKubernetesVersion',                -- 7
            '$.properties.kubernetesVersion',                       -- 8
            '$.properties.autoUpgradeProfile.upgradeChannel',       -- 9
            '$.properties.autoUpgradeProfile.nodeOSUpgradeChannel', -- 10
            '$.properties.powerState.code',                         -- 11
            '$.properties.provisioningState'                        -- 12
        ]) AS v,
        json_extract(e.payload, ['$.tags', '$.properties.agentPoolProfiles']) AS j
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'cluster'
),
raw AS (
    SELECT
        cluster_id,
        t[1] AS name_type, t[2] AS tags_type, t[3] AS properties_type, t[4] AS support_plan_type,
        t[5] AS current_version_type, t[6] AS requested_version_type, t[7] AS profile_type, t[8] AS channel_type,
        t[9] AS node_os_type, t[10] AS pools_type, t[11] AS state_type,
        v[1] AS name_text, v[2] AS subscription_text, v[3] AS group_text, v[4] AS location_text, v[5] AS tier_text,
        v[6] AS support_plan_text, v[9] AS channel_text, v[10] AS node_os_text, v[11] AS power_text,
        v[12] AS state_text, j[1] AS tags_json, j[2] AS pools_json,
        trim(v[7])                                                      AS current_raw,
        trim(v[8])                                                      AS requested_raw
    FROM parsed
),
shaped AS (
    SELECT
        *,
        -- What runs: currentKubernetesVersion; when a payload (older API versions, exports) lacks it, a full x.y.z
        -- kubernetesVersion is what runs too (an alias such as 1.33 names no patch, so it is not used).
        CASE
            WHEN current_raw IS NOT NULL THEN 'currentKubernetesVersion'
            WHEN regexp_full_match(coalesce(requested_raw, ''), '\d+\.\d+\.\d+') THEN 'kubernetesVersion'
        END                                                             AS version_field,
        CASE
            WHEN current_raw IS NOT NULL THEN current_raw
            WHEN regexp_full_match(coalesce(requested_raw, ''), '\d+\.\d+\.\d+') THEN requested_raw
        END                                                             AS version_seen,
        CASE
            WHEN properties_type IS NULL OR properties_type = 'NULL' THEN 'the cluster payload has no properties'
            WHEN properties_type <> 'OBJECT' THEN 'properties is ' || json_kind(properties_type) || ', not an object'
        END                                                             AS props_problem
    FROM raw
)
SELECT
    cluster_id,
    CASE WHEN name_type = 'VARCHAR' THEN name_text END           AS name,
    lower(subscription_text)                                   AS subscription_id,
    group_text                                                      AS resource_group,
    -- Region key: lower case without blanks, so "Australia East" and "australiaeast" are one region.
    lower(regexp_replace(location_text, '\s', '', 'g'))          AS location,
    -- Tags: an object of strings. null means no tags; any other shape is a problem and reads as no tags.
    CASE WHEN tags_type = 'OBJECT'
         THEN to_json(TRY_CAST(tags_json AS MAP(VARCHAR, VARCHAR))) ELSE '{}'::JSON END AS tags,
    CASE WHEN tags_type NOT IN ('OBJECT', 'NULL')
         THEN 'tags is ' || json_kind(tags_type) || ', not an object of strings' END AS tags_problem,
    -- Tags as lower-cased 'name<US>value' strings: Azure tag names are case-insensitive; policy scopes match on these.
    CASE WHEN tags_type = 'OBJECT'
         THEN coalesce(list_transform(map_entries(TRY_CAST(tags_json AS MAP(VARCHAR, VARCHAR))),
                                      lambda t: lower(t.key) || chr(31) || lower(coalesce(t.value, ''))), [])
         ELSE [] END                                                AS tag_pairs,
    tier_text                                                       AS sku_tier,
    CASE WHEN support_plan_type = 'VARCHAR' THEN support_plan_text
         WHEN support_plan_type IS NULL OR support_plan_type = 'NULL' THEN 'KubernetesOfficial' END AS support_plan,
    CASE WHEN support_plan_type NOT IN ('VARCHAR', 'NULL')
         THEN 'supportPlan is ' || json_kind(support_plan_type) || ', not a string' END AS support_plan_problem,
    -- Why the cluster payload cannot be read at all (NULL when it can).
    props_problem                                                   AS properties_problem,
    requested_raw                                                   AS kubernetes_version,
    current_raw                                                     AS current_kubernetes_version_raw,
    version_field,
    -- The version that runs, only when it reads as major.minor.patch (NULL otherwise: see version_problem).
    CASE WHEN regexp_full_match(coalesce(version_seen, ''), '\d+\.\d+\.\d+') THEN version_seen END
                                                                    AS current_kubernetes_version,
    CASE WHEN regexp_full_match(coalesce(version_seen, ''), '\d+\.\d+\.\d+')
         THEN regexp_extract(version_seen, '^(\d+\.\d+)', 1) END    AS current_minor,
    CASE WHEN regexp_full_match(coalesce(version_seen, ''), '\d+\.\d+\.\d+')
         THEN minor_num(version_seen) END                           AS current_minor_num,
    -- The version evidence in words, the same in every control: which field the version was read from.
    CASE WHEN version_field = 'kubernetesVersion'
         THEN 'currentKubernetesVersion absent; kubernetesVersion=' || requested_raw || ' (a full version: what runs)'
         ELSE 'currentKubernetesVersion=' || coalesce(current_raw, 'null') END AS version_evidence,
    -- Why no version can be judged (NULL when one can). The same text in every version control.
    CASE
        WHEN props_problem IS NOT NULL THEN props_problem
        WHEN current_version_type IS NOT NULL AND current_version_type NOT IN ('VARCHAR', 'NULL') THEN
            'currentKubernetesVersion is ' || json_kind(current_version_type) || ', not a version string'
        WHEN current_raw IS NOT NULL AND NOT regexp_full_match(current_raw, '\d+\.\d+\.\d+') THEN
            'currentKubernetesVersion ''' || current_raw || ''' is not a Kubernetes version (major.minor.patch)'
        WHEN current_raw IS NULL AND requested_raw IS NULL THEN
            'the cluster payload has neither currentKubernetesVersion nor kubernetesVersion'
        WHEN current_raw IS NULL AND version_seen IS NULL THEN
            'the cluster payload has no currentKubernetesVersion and its kubernetesVersion ''' || requested_raw
            || ''' names no patch, so what runs is not known'
    END                                                             AS version_problem,
    -- LTS applies only with supportPlan AKSLongTermSupport on the Premium tier (ENUMS.md, long-term-support.md).
    lower(CASE WHEN support_plan_type = 'VARCHAR' THEN support_plan_text ELSE '' END)
        = 'akslongtermsupport'
        AND lower(coalesce(tier_text, '')) = 'premium'      AS lts_eligible,
    -- A missing autoUpgradeProfile or channel means the service default 'none' (ENUMS.md); so does an empty string.
    coalesce(profile_type = 'OBJECT', false)                        AS has_auto_upgrade_profile,
    CASE
        WHEN props_problem IS NOT NULL THEN props_problem
        WHEN profile_type NOT IN ('OBJECT', 'NULL') THEN
            'autoUpgradeProfile is ' || json_kind(profile_type) || ', not an object'
        WHEN channel_type NOT IN ('VARCHAR', 'NULL') THEN
            'autoUpgradeProfile.upgradeChannel is ' || json_kind(channel_type) || ', not a string'
    END                                                             AS channel_problem,
    CASE
        WHEN props_problem IS NOT NULL THEN props_problem
        WHEN profile_type NOT IN ('OBJECT', 'NULL') THEN
            'autoUpgradeProfile is ' || json_kind(profile_type) || ', not an object'
        WHEN node_os_type NOT IN ('VARCHAR', 'NULL') THEN
            'autoUpgradeProfile.nodeOSUpgradeChannel is ' || json_kind(node_os_type) || ', not a string'
    END                                                             AS node_os_problem,
    CASE WHEN profile_type = 'OBJECT' AND channel_type = 'VARCHAR'
         THEN channel_text END                                      AS upgrade_channel_raw,
    CASE WHEN profile_type = 'OBJECT' AND channel_type = 'VARCHAR'
         THEN lower(coalesce(nullif(trim(channel_text), ''), 'none'))
         ELSE 'none' END                                            AS upgrade_channel,
    CASE WHEN profile_type = 'OBJECT' AND node_os_type = 'VARCHAR'
         THEN node_os_text END                                      AS node_os_upgrade_channel_raw,
    -- Kept NULL when absent: AKS-CHN-02 decides what a missing value means (docs/controls.md). Empty reads as None.
    CASE WHEN profile_type = 'OBJECT' AND node_os_type = 'VARCHAR'
         THEN lower(coalesce(nullif(trim(node_os_text), ''), 'none'))
    END                                                             AS node_os_upgrade_channel,
    coalesce(power_text, 'Running')         AS power_state,
    CASE WHEN state_type = 'VARCHAR' THEN state_text END              AS provisioning_state,
    -- Pools: a list of objects. Why the list cannot be read (NULL when it can); each entry's own problems are in
    -- node_pools.pool_problem.
    CASE
        WHEN props_problem IS NOT NULL THEN props_problem
        WHEN pools_type IS NULL OR pools_type = 'NULL' THEN 'the cluster payload has no agentPoolProfiles'
        WHEN pools_type <> 'ARRAY' THEN 'agentPoolProfiles is ' || json_kind(pools_type) || ', not a list'
    END                                                             AS pools_problem,
    CASE WHEN pools_type = 'ARRAY' THEN json_array_length(pools_json) END AS pool_entries
FROM shaped;
