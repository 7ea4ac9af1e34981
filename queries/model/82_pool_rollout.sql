-- What AKS-OS-01, AKS-UPG-01 (and AKS-SRG-01, for the strategy) read about each agent pool, one row per entry of
-- agentPoolProfiles, built on node_pools (queries/model/20_node_pools.sql parses each entry once): its type, OS,
-- upgrade strategy and the upgrade settings of both strategies. Raw values are kept beside the parsed ones, so a
-- value that is present but unreadable is `unknown`, never a service default; a malformed entry keeps its
-- pool_problem (every pool-level control says `unknown` for it) and its `agentPoolProfiles[i]` label.
-- Service defaults (ENUMS.md, AgentPoolUpgradeSettings / AgentPoolBlueGreenUpgradeSettings): type
-- VirtualMachineScaleSets, upgradeStrategy Rolling, maxSurge 10%, maxUnavailable 0, drainTimeoutInMinutes 30,
-- nodeSoakDurationInMinutes 0; blue-green drainBatchSize 10%, drainTimeoutInMinutes 30,
-- batchSoakDurationInMinutes 15, finalSoakDurationInMinutes 60. The controls apply them, and say so.
CREATE OR REPLACE TEMP TABLE pool_rollout AS
SELECT
    cluster_id,
    pool_index,
    pool_name,
    pool_problem,
    node_count,
    mode,
    os_type,
    os_sku,
    pool_type                                                        AS pool_type_raw,
    coalesce(pool_type, 'VirtualMachineScaleSets')                   AS pool_type,
    node_image_version,
    image_family,
    upgrade_strategy                                                 AS upgrade_strategy_raw,
    lower(coalesce(nullif(trim(upgrade_strategy), ''), 'Rolling'))  AS upgrade_strategy,
    max_surge                                                        AS max_surge_raw,
    max_unavailable                                                  AS max_unavailable_raw,
    drain_timeout                                                    AS drain_timeout_raw,
    TRY_CAST(drain_timeout AS INTEGER)                               AS drain_timeout,
    node_soak                                                        AS soak_raw,
    TRY_CAST(node_soak AS INTEGER)                                   AS soak,
    undrainable_node_behavior,
    has_bluegreen_settings,
    bluegreen_problem,
    bg_drain_batch                                                   AS bg_drain_batch_raw,
    bg_drain_timeout                                                 AS bg_drain_timeout_raw,
    TRY_CAST(bg_drain_timeout AS INTEGER)                            AS bg_drain_timeout,
    bg_batch_soak                                                    AS bg_batch_soak_raw,
    TRY_CAST(bg_batch_soak AS INTEGER)                               AS bg_batch_soak,
    bg_final_soak                                                    AS bg_final_soak_raw,
    TRY_CAST(bg_final_soak AS INTEGER)                               AS bg_final_soak
FROM node_pools;
