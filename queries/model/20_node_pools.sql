-- One row per entry of agentPoolProfiles (only when that is a list). upgradeSettings keys stay NULL when absent:
-- absent means the service default, which the controls apply explicitly.
-- An entry that is null, not an object, or has no name keeps its row, labelled `agentPoolProfiles[i]` (0-based, as
-- resource changes name pools), with pool_problem saying what is wrong: every pool-level control is `unknown` for it,
-- never a pass on service defaults. A node image dated after the scan has no usable date (image_problem).
-- The pool type, upgrade strategy and the rest of both strategies' upgrade settings are kept raw (as text) for
-- queries/model/82_pool_rollout.sql, which applies their service defaults.
CREATE OR REPLACE TEMP TABLE node_pools AS
WITH shaped AS (
    -- Each entry as queries/shape/pools.sql parses it, from the scan's shaped payloads (cluster_payloads): the
    -- payloads are not parsed a second time.
    SELECT
        *,
        CASE WHEN entry_type = 'OBJECT' AND name_type = 'VARCHAR' THEN nullif(trim(name_text), '') END AS named,
        CASE WHEN entry_type = 'OBJECT' THEN node_image_text END AS image,
        coalesce(trim(current_orchestrator_version_text), trim(orchestrator_version_text)) AS running,
        (SELECT CAST(started_at AS DATE) FROM scans WHERE scan_id = $scan_id) AS as_of
    FROM (SELECT c.cluster_id, p.* FROM cluster_payloads c, shaped_pool_entries(c.pools_json) p)
),
-- A fleet runs a few dozen distinct node images: each is parsed once (a Python function), then joined.
images AS (
    SELECT image, node_image_family(image) AS image_family, node_image_date(image) AS released
    FROM (SELECT DISTINCT image FROM shaped WHERE image IS NOT NULL)
),
judged AS (
    SELECT
        shaped.*,
        images.image_family,
        images.released,
        CASE
            WHEN entry_type IS NULL OR entry_type = 'NULL' THEN 'entry ' || pool_index || ' of agentPoolProfiles is null'
            WHEN entry_type <> 'OBJECT' THEN
                'entry ' || pool_index || ' of agentPoolProfiles is ' || json_kind(entry_type) || ', not an object'
            WHEN named IS NULL THEN 'entry ' || pool_index || ' of agentPoolProfiles has no name'
            WHEN settings_type NOT IN ('OBJECT', 'NULL') THEN
                'upgradeSettings of pool ''' || named || ''' is ' || json_kind(settings_type) || ', not an object'
        END AS problem
    FROM shaped
    LEFT JOIN images USING (image)
)
SELECT
    cluster_id,
    pool_index,
    -- The pool's name, or its place in the list when it has none (see pool_problem).
    coalesce(named, 'agentPoolProfiles[' || pool_index || ']') AS pool_name,
    named IS NOT NULL                                 AS named,
    problem                                           AS pool_problem,
    TRY_CAST(count_text AS INTEGER)                   AS node_count,
    -- Modes: System, User, Gateway (ENUMS.md); absent means User.
    coalesce(mode_text, 'User')                       AS mode,
    coalesce(os_type_text, 'Linux')                   AS os_type,
    os_sku_text                                       AS os_sku,
    trim(orchestrator_version_text)                   AS orchestrator_version,
    trim(current_orchestrator_version_text)           AS current_orchestrator_version,
    CASE WHEN regexp_full_match(coalesce(running, ''), '\d+\.\d+(\.\d+)?')
         THEN regexp_extract(running, '^(\d+\.\d+)', 1) END AS current_minor,
    CASE WHEN regexp_full_match(coalesce(running, ''), '\d+\.\d+(\.\d+)?') THEN minor_num(running) END
                                                      AS current_minor_num,
    image                                             AS node_image_version,
    image_family,
    CASE WHEN released <= as_of THEN released END     AS image_date,
    CASE WHEN released > as_of THEN
        'node image ' || image || ' is dated ' || CAST(released AS VARCHAR) || ', after the scan ('
        || CAST(as_of AS VARCHAR) || '): its version cannot be trusted'
    END                                               AS image_problem,
    CASE WHEN entry_type = 'OBJECT' THEN state_text END AS provisioning_state,
    power_text                                        AS power_state,
    CASE WHEN settings_type = 'OBJECT' THEN max_surge_text END AS max_surge,
    CASE WHEN settings_type = 'OBJECT' THEN max_unavailable_text END AS max_unavailable,
    coalesce(settings_type = 'OBJECT', false)         AS has_upgrade_settings,
    CASE WHEN entry_type = 'OBJECT' THEN pool_type_text END AS pool_type,
    CASE WHEN entry_type = 'OBJECT' THEN upgrade_strategy_text END AS upgrade_strategy,
    CASE WHEN settings_type = 'OBJECT' THEN drain_timeout_text END AS drain_timeout,
    CASE WHEN settings_type = 'OBJECT' THEN node_soak_text END AS node_soak,
    CASE WHEN settings_type = 'OBJECT' THEN undrainable_node_behavior_text END AS undrainable_node_behavior,
    coalesce(bluegreen_type = 'OBJECT', false)        AS has_bluegreen_settings,
    -- upgradeSettingsBlueGreen of the wrong type: only the blue-green judgement (AKS-UPG-01) needs it.
    CASE WHEN entry_type = 'OBJECT' AND bluegreen_type NOT IN ('OBJECT', 'NULL') THEN
        'upgradeSettingsBlueGreen of pool ''' || coalesce(named, 'agentPoolProfiles[' || pool_index || ']') || ''' is '
        || json_kind(bluegreen_type) || ', not an object'
    END                                               AS bluegreen_problem,
    CASE WHEN bluegreen_type = 'OBJECT' THEN bg_drain_batch_text END AS bg_drain_batch,
    CASE WHEN bluegreen_type = 'OBJECT' THEN bg_drain_timeout_text END AS bg_drain_timeout,
    CASE WHEN bluegreen_type = 'OBJECT' THEN bg_batch_soak_text END AS bg_batch_soak,
    CASE WHEN bluegreen_type = 'OBJECT' THEN bg_final_soak_text END AS bg_final_soak
FROM judged;
