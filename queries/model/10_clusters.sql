-- One row per managed cluster of the scan, shaped from the raw Resource Graph row.
-- Enum values are kept as Azure sent them; controls compare them case-insensitively (lower()).
-- Every value is read defensively (docs/controls.md, "Malformed evidence"): a value of the wrong JSON type is never
-- cast blindly; it becomes NULL and a *_problem column says what was wrong, so the controls that need it say
-- `unknown` with that text while the rest of the scan is judged as usual.
CREATE OR REPLACE TEMP TABLE clusters AS
WITH raw AS (
    -- Parsed once, in queries/shape/clusters.sql (cluster_payloads).
    SELECT
        cluster_id, name_type, tags_type, properties_type, support_plan_type, current_version_type,
        requested_version_type, profile_type, channel_type, node_os_type, pools_type, state_type,
        name_text, subscription_text, group_text, location_text, tier_text, support_plan_text, channel_text,
        node_os_text, power_text, state_text, tags_json, pools_json,
        trim(current_version_text)                                      AS current_raw,
        trim(requested_version_text)                                    AS requested_raw
    FROM cluster_payloads
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
