-- Each entry of agentPoolProfiles parsed once: every field a reader of the pools uses, as named columns (the raw
-- text, and the JSON type where a reader must tell a wrong type from an absent value). Only a list is unnested: a
-- payload whose agentPoolProfiles is absent or not a list has no row here (its cluster says why: pools_type). An
-- entry that is null or not an object keeps its row (pool_index 0-based, entry_type saying what it is) with every
-- field NULL.
-- shaped_pool_entries(pools_json): the entries of one cluster's list (shaped_clusters' pools_json), for a reader that
-- holds the shaped clusters already (the model's node_pools reads cluster_payloads with it, the ledger's snapshots
-- fold_clusters: no second parse of the payloads). shaped_pools(scan_ids): every pool of the given scans' clusters,
-- for the export's pools (queries/export/pools.sql) and the period's inventory (queries/period/10_inventory.sql).
CREATE OR REPLACE TEMP MACRO shaped_pool_entries(pools_json) AS TABLE
WITH entries AS (
    -- The list parsed once; TRY_CAST gives NULL (no entry) for anything but a list.
    SELECT unnest(pools) AS pool, generate_subscripts(pools, 1) - 1 AS pool_index
    FROM (SELECT TRY_CAST(pools_json AS JSON[]) AS pools)
),
parsed AS (
    SELECT
        pool_index,
        json_type(pool) AS entry_type,
        json_type(pool, [
            '$.name',                                               -- 1
            '$.upgradeSettings',                                    -- 2
            '$.upgradeSettingsBlueGreen'                            -- 3
        ]) AS t,
        json_extract_string(pool, [
            '$.name',                                               -- 1
            '$.count',                                              -- 2
            '$.mode',                                               -- 3
            '$.osType',                                             -- 4
            '$.osSKU',                                              -- 5
            '$.orchestratorVersion',                                -- 6
            '$.currentOrchestratorVersion',                         -- 7
            '$.nodeImageVersion',                                   -- 8
            '$.provisioningState',                                  -- 9
            '$.powerState.code',                                    -- 10
            '$.upgradeSettings.maxSurge',                           -- 11
            '$.upgradeSettings.maxUnavailable',                     -- 12
            '$.type',                                               -- 13
            '$.upgradeStrategy',                                    -- 14
            '$.upgradeSettings.drainTimeoutInMinutes',              -- 15
            '$.upgradeSettings.nodeSoakDurationInMinutes',          -- 16
            '$.upgradeSettings.undrainableNodeBehavior',            -- 17
            '$.upgradeSettingsBlueGreen.drainBatchSize',            -- 18
            '$.upgradeSettingsBlueGreen.drainTimeoutInMinutes',     -- 19
            '$.upgradeSettingsBlueGreen.batchSoakDurationInMinutes', -- 20
            '$.upgradeSettingsBlueGreen.finalSoakDurationInMinutes', -- 21
            '$.vmSize'                                              -- 22
        ]) AS v
    FROM entries
)
SELECT
    pool_index,
    entry_type,
    t[1]                    AS name_type,
    t[2]                    AS settings_type,
    t[3]                    AS bluegreen_type,
    v[1]                    AS name_text,
    v[2]                    AS count_text,
    v[3]                    AS mode_text,
    v[4]                    AS os_type_text,
    v[5]                    AS os_sku_text,
    v[22]                   AS vm_size_text,
    v[6]                    AS orchestrator_version_text,
    v[7]                    AS current_orchestrator_version_text,
    v[8]                    AS node_image_text,
    v[9]                    AS state_text,
    v[10]                   AS power_text,
    v[11]                   AS max_surge_text,
    v[12]                   AS max_unavailable_text,
    v[13]                   AS pool_type_text,
    v[14]                   AS upgrade_strategy_text,
    v[15]                   AS drain_timeout_text,
    v[16]                   AS node_soak_text,
    v[17]                   AS undrainable_node_behavior_text,
    v[18]                   AS bg_drain_batch_text,
    v[19]                   AS bg_drain_timeout_text,
    v[20]                   AS bg_batch_soak_text,
    v[21]                   AS bg_final_soak_text
FROM parsed;

CREATE OR REPLACE TEMP MACRO shaped_pools(scan_ids) AS TABLE
SELECT c.scan_id, c.seq, c.cluster_id, p.*
FROM shaped_clusters(scan_ids) c, shaped_pool_entries(c.pools_json) p;
