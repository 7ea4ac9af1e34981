-- AKS-FLT-02: one upgrade authority per cluster (docs/fleet.md). A Fleet member covered by an enabled auto-upgrade
-- profile is upgraded by Fleet Manager; if it also keeps its own cluster auto-upgrade, Fleet or AKS upgrades it,
-- whichever runs first, out of the Fleet's sequence (Fleet Manager FAQ). Kubernetes: a Stable, Rapid or
-- TargetKubernetesVersion profile against upgradeChannel patch/stable/rapid. Node images: a NodeImage profile against
-- nodeOSUpgradeChannel NodeImage/SecurityPatch or upgradeChannel node-image. AKS Automatic members warn: their own
-- auto-upgrade cannot be turned off. With [require_fleet_for_production], production clusters (the last ring of
-- [ring_order] in their [ring_tag] tag) that are members of no fleet fail.
WITH judged AS (
    SELECT
        c.cluster_id, c.upgrade_channel, c.upgrade_channel_raw, c.node_os_upgrade_channel,
        c.node_os_upgrade_channel_raw, k.sku_name,
        a.cluster_key IS NOT NULL AS member,
        a.fleet_names, a.memberships, a.kubernetes_profiles, a.node_image_profiles, a.unresolved_profiles,
        p.require_fleet_for_production,
        list_position(list_transform(p.ring_order, lambda r: lower(r)),
                      split_part(list_filter(c.tag_pairs, lambda t: split_part(t, chr(31), 1) = lower(p.ring_tag))[1],
                                 chr(31), 2)) = len(p.ring_order) AS production,
        p.ring_tag,
        a.kubernetes_profiles IS NOT NULL AND c.upgrade_channel IN ('patch', 'stable', 'rapid') AS kubernetes_clash,
        a.node_image_profiles IS NOT NULL
            AND (c.node_os_upgrade_channel IN ('nodeimage', 'securitypatch') OR c.upgrade_channel = 'node-image')
            AS node_image_clash,
        (SELECT string_agg(DISTINCT call || ': ' || error, '; ' ORDER BY call || ': ' || error)
         FROM fleet_errors WHERE call IN ('fleet', 'fleet_resources')) AS errors,
        -- Member rows that name no cluster: any cluster could be the one they stand for.
        (SELECT count(*) || ' (' || array_to_string(list(m.member_id ORDER BY m.member_id)[1:3], ', ')
                || CASE WHEN count(*) > 3 THEN ', …' ELSE '' END || ')'
         FROM fleet_members m WHERE coalesce(trim(m.cluster_key), '') = ''
         HAVING count(*) > 0) AS unreadable_members
    FROM clusters c
    JOIN cluster_params p USING (cluster_id)
    LEFT JOIN cluster_skus k USING (cluster_id)
    LEFT JOIN fleet_cluster_authority a ON a.cluster_key = lower(c.cluster_id)
),
decided AS (
    SELECT *,
        CASE
            -- AKS Automatic cannot turn its own auto-upgrade off: a known limit, flagged rather than failed.
            WHEN member AND lower(coalesce(sku_name, '')) = 'automatic' THEN 'warn'
            WHEN member AND (kubernetes_clash OR node_image_clash) THEN 'fail'
            WHEN member AND unresolved_profiles IS NOT NULL THEN 'unknown'
            WHEN member THEN 'pass'
            WHEN errors IS NOT NULL OR unreadable_members IS NOT NULL THEN 'unknown'
            WHEN require_fleet_for_production AND coalesce(production, false) THEN 'fail'
            ELSE 'not_applicable'
        END AS status
    FROM judged
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    status,
    CASE
        WHEN status = 'fail' AND member THEN
            'two upgrade authorities: ' || concat_ws('; ',
                CASE WHEN kubernetes_clash THEN 'Fleet profile ' || kubernetes_profiles || ' and the cluster''s own '
                     || 'auto-upgrade channel ' || upgrade_channel || ' both upgrade Kubernetes' END,
                CASE WHEN node_image_clash THEN 'Fleet profile ' || node_image_profiles || ' and the cluster''s own '
                     || CASE WHEN upgrade_channel = 'node-image' THEN 'upgradeChannel node-image'
                             ELSE 'nodeOSUpgradeChannel ' || node_os_upgrade_channel_raw END
                     || ' both update node images' END)
            || ': whichever runs first upgrades it, out of the Fleet''s sequence (member ' || memberships || ')'
        WHEN status = 'warn' THEN
            'AKS Automatic member of fleet ' || fleet_names || ': its own auto-upgrade cannot be turned off, so it can '
            || 'upgrade out of the Fleet''s sequence (upgradeChannel ' || upgrade_channel
            || coalesce('; Fleet profiles ' || concat_ws(', ', kubernetes_profiles, node_image_profiles), '') || ')'
        WHEN status = 'unknown' AND member THEN
            'member ' || memberships || ' of an auto-upgrade profile whose update strategy was not collected ('
            || unresolved_profiles || '): coverage cannot be told'
        WHEN status = 'pass' THEN
            'one upgrade authority: ' || CASE
                WHEN kubernetes_profiles IS NULL AND node_image_profiles IS NULL THEN
                    'member ' || memberships || ', no enabled auto-upgrade profile covers it; its own channels decide '
                    || '(upgradeChannel ' || upgrade_channel || ', nodeOSUpgradeChannel '
                    || coalesce(node_os_upgrade_channel_raw, 'absent') || ')'
                ELSE 'Fleet upgrades member ' || memberships || ' through '
                    || concat_ws(' and ', kubernetes_profiles, node_image_profiles)
                    || '; the cluster''s own channels leave it to Fleet (upgradeChannel ' || upgrade_channel
                    || ', nodeOSUpgradeChannel ' || coalesce(node_os_upgrade_channel_raw, 'absent') || ')' END
        WHEN status = 'unknown' THEN
            coalesce('Fleet Manager resources could not be collected, so membership cannot be told: ' || errors,
                     'Fleet member row(s) name no cluster (no readable properties.clusterResourceId), so membership '
                     || 'cannot be told: ' || unreadable_members)
        WHEN status = 'fail' THEN
            'production cluster (' || ring_tag || ') is a member of no fleet: require_fleet_for_production is on'
        ELSE 'not a member of any fleet in scope: its own auto-upgrade channels are its only authority (AKS-CHN-01)'
    END AS message,
    'upgradeChannel=' || coalesce(upgrade_channel_raw, 'absent') || '; nodeOSUpgradeChannel='
        || coalesce(node_os_upgrade_channel_raw, 'absent') || '; sku=' || coalesce(sku_name, '?')
        || '; fleet memberships=' || coalesce(memberships, 'none')
        || '; covering profiles=' || coalesce(concat_ws(', ', kubernetes_profiles, node_image_profiles), 'none')
        AS evidence,
    NULL AS target
FROM decided;
