-- One row per entry of agentPoolProfiles (only when that is a list). upgradeSettings keys stay NULL when absent:
-- absent means the service default, which the controls apply explicitly.
-- An entry that is null, not an object, or has no name keeps its row, labelled `agentPoolProfiles[i]` (0-based, as
-- resource changes name pools), with pool_problem saying what is wrong: every pool-level control is `unknown` for it,
-- never a pass on service defaults. A node image dated after the scan has no usable date (image_problem).
CREATE OR REPLACE TEMP TABLE node_pools AS
WITH entries AS (
    SELECT
        e.scope AS cluster_id,
        unnest(CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[])) AS pool,
        generate_subscripts(CAST(e.payload->'$.properties.agentPoolProfiles' AS JSON[]), 1) - 1 AS pool_index
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'cluster'
      AND json_type(e.payload, '$.properties.agentPoolProfiles') = 'ARRAY'
),
typed AS (
    SELECT
        *,
        json_type(pool) AS entry_type,
        json_type(pool, '$.name') AS name_type,
        json_type(pool, '$.upgradeSettings') AS settings_type,
        CASE WHEN json_type(pool) = 'OBJECT' AND json_type(pool, '$.name') = 'VARCHAR'
             THEN nullif(trim(pool->>'$.name'), '') END AS named,
        (SELECT CAST(started_at AS DATE) FROM scans WHERE scan_id = $scan_id) AS as_of
    FROM entries
),
shaped AS (
    SELECT
        *,
        CASE
            WHEN entry_type IS NULL OR entry_type = 'NULL' THEN 'entry ' || pool_index || ' of agentPoolProfiles is null'
            WHEN entry_type <> 'OBJECT' THEN
                'entry ' || pool_index || ' of agentPoolProfiles is ' || json_kind(entry_type) || ', not an object'
            WHEN named IS NULL THEN 'entry ' || pool_index || ' of agentPoolProfiles has no name'
            WHEN settings_type NOT IN ('OBJECT', 'NULL') THEN
                'upgradeSettings of pool ''' || named || ''' is ' || json_kind(settings_type) || ', not an object'
        END AS problem,
        CASE WHEN entry_type = 'OBJECT' THEN pool->>'$.nodeImageVersion' END AS image
    FROM typed
)
SELECT
    cluster_id,
    pool_index,
    -- The pool's name, or its place in the list when it has none (see pool_problem).
    coalesce(named, 'agentPoolProfiles[' || pool_index || ']') AS pool_name,
    named IS NOT NULL                                 AS named,
    problem                                           AS pool_problem,
    TRY_CAST(pool->>'$.count' AS INTEGER)             AS node_count,
    -- Modes: System, User, Gateway (ENUMS.md); absent means User.
    coalesce(pool->>'$.mode', 'User')                 AS mode,
    coalesce(pool->>'$.osType', 'Linux')              AS os_type,
    pool->>'$.osSKU'                                  AS os_sku,
    trim(pool->>'$.orchestratorVersion')              AS orchestrator_version,
    trim(pool->>'$.currentOrchestratorVersion')       AS current_orchestrator_version,
    nullif(regexp_extract(coalesce(trim(pool->>'$.currentOrchestratorVersion'), trim(pool->>'$.orchestratorVersion')),
                          '^(\d+\.\d+)(\.\d+)?$', 1), '') AS current_minor,
    minor_num(CASE WHEN regexp_full_match(coalesce(trim(pool->>'$.currentOrchestratorVersion'),
                                                   trim(pool->>'$.orchestratorVersion'), ''), '\d+\.\d+(\.\d+)?')
                   THEN coalesce(trim(pool->>'$.currentOrchestratorVersion'), trim(pool->>'$.orchestratorVersion'))
              END)                                    AS current_minor_num,
    image                                             AS node_image_version,
    node_image_family(image)                          AS image_family,
    CASE WHEN node_image_date(image) <= as_of THEN node_image_date(image) END AS image_date,
    CASE WHEN node_image_date(image) > as_of THEN
        'node image ' || image || ' is dated ' || CAST(node_image_date(image) AS VARCHAR) || ', after the scan ('
        || CAST(as_of AS VARCHAR) || '): its version cannot be trusted'
    END                                               AS image_problem,
    CASE WHEN entry_type = 'OBJECT' THEN pool->>'$.provisioningState' END AS provisioning_state,
    pool->>'$.powerState.code'                        AS power_state,
    CASE WHEN settings_type = 'OBJECT' THEN pool->>'$.upgradeSettings.maxSurge' END       AS max_surge,
    CASE WHEN settings_type = 'OBJECT' THEN pool->>'$.upgradeSettings.maxUnavailable' END AS max_unavailable,
    coalesce(settings_type = 'OBJECT', false)         AS has_upgrade_settings
FROM shaped;
