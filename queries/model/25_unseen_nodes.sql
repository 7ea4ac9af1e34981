-- Nodes that are not agent pools, which the ARM APIs this scan reads cannot see (docs/controls.md, "What the
-- evidence does not cover"). One row per cluster and kind; AKS-IMG-01 and AKS-IMG-02 add one finding for each, never
-- a pass, and the report lists them per cluster.
--   * Node auto-provisioning (properties.nodeProvisioningProfile.mode = Auto): Karpenter creates nodes from NodePool
--     and AKSNodeClass resources inside the cluster; they are not in agentPoolProfiles and have no upgrade profile.
--     https://learn.microsoft.com/azure/aks/node-autoprovision
--   * AKS Automatic managed system node pools (properties.hostedSystemProfile.enabled): the system pool runs on
--     Microsoft-owned infrastructure that AKS provisions, patches and upgrades; it is not in agentPoolProfiles.
--     https://learn.microsoft.com/azure/aks/automatic/aks-automatic-managed-system-node-pools-about
CREATE OR REPLACE TEMP TABLE unseen_nodes AS
SELECT
    cluster_id,
    '(node auto-provisioning)' AS node_pool,
    'node_auto_provisioning' AS kind,
    'unknown' AS status,
    'nodes that node auto-provisioning (Karpenter) creates are not agent pools: their node image is not in the '
        || 'ARM evidence, so it cannot be judged here (see the AKSNodeClass image settings and the NodeClaims in the '
        || 'cluster)' AS detail,
    'properties.nodeProvisioningProfile.mode=' || node_provisioning_mode_text AS evidence
FROM cluster_payloads
WHERE lower(node_provisioning_mode_text) = 'auto'
UNION ALL
SELECT
    cluster_id,
    '(managed system pool)',
    'managed_system_pool',
    'not_applicable',
    'the system pool of this AKS Automatic cluster is a managed system node pool: AKS provisions, patches and '
        || 'upgrades it on Microsoft-owned infrastructure, and it is not an agent pool and its image is not in the evidence',
    'properties.hostedSystemProfile.enabled=true'
FROM cluster_payloads
WHERE lower(CAST(hosted_system_enabled_json AS VARCHAR)) = 'true';
