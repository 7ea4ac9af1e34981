-- AKS-OVR-01: no upgrade override bypasses AKS's upgrade safety checks. properties.upgradeSettings.overrideSettings
-- with forceUpgrade true makes an upgrade skip its protections (the deprecated-API check, the check for
-- PodDisruptionBudgets that block every drain; evictions a budget blocks are forced after the drain timeout) for
-- upgrades that start before `until`. Fail while one is in force
-- (`until` after the scan, or no `until` at all: nothing bounds it); warn when one was in force within the last
-- [override_recent_days] days: its `until` passed recently, or the upgrade ledger (history_overrides, as of this
-- scan) saw it armed in an earlier scan or saw its settings change in Azure's resource changes.
-- `unknown` when the cluster's properties or its upgradeSettings cannot be read (never a pass on a missing value).
WITH params AS (
    SELECT
        c.cluster_id, lower(c.cluster_id) AS cid, c.properties_problem,
        o.upgrade_settings_type, o.settings_type, o.force_type, o.force_raw, o.force_upgrade, o.until_raw, o.until_utc,
        cp.override_recent_days AS recent_days,
        s.started_at AS scan_at,
        s.started_at - to_days(cp.override_recent_days) AS horizon
    FROM clusters c
    JOIN cluster_params cp USING (cluster_id)
    LEFT JOIN cluster_override o USING (cluster_id)
    CROSS JOIN scan s
),
earlier AS (
    -- What the ledger recorded before this scan, within the recent days (this scan's own sighting is the payload).
    SELECT
        p.cid,
        max(h.event_time) FILTER (WHERE h.source = 'scan' AND coalesce(h.until_at > h.event_time, true))
            AS armed_seen_at,
        max(h.until_at) FILTER (WHERE h.source = 'scan' AND h.until_at <= p.scan_at AND h.until_at >= p.horizon)
            AS ended_at,
        arg_max(h.field || ' ' || coalesce(h.previous_value, 'absent') || ' -> ' || coalesce(h.new_value, 'absent')
                || ' at ' || strftime(h.event_time, '%Y-%m-%d %H:%M UTC'),
                (h.event_time, h.override_key)) FILTER (WHERE h.source = 'resource_change') AS last_change,
        count(*) FILTER (WHERE h.source = 'resource_change') AS changes
    FROM params p
    JOIN history_overrides h ON h.cluster_id = p.cid
    WHERE h.event_time < p.scan_at AND h.event_time >= p.horizon
      AND (h.source = 'scan'
           OR coalesce(h.force_upgrade, false)
           OR lower(coalesce(h.previous_value, '')) IN ('true')
           OR regexp_matches(lower(coalesce(h.previous_value, '') || ' ' || coalesce(h.new_value, '')),
                             '"forceupgrade"\s*:\s*true'))
    GROUP BY p.cid
),
history AS (
    SELECT
        p.cid, e.armed_seen_at, e.ended_at, e.last_change, coalesce(e.changes, 0) AS changes,
        (e.armed_seen_at IS NOT NULL OR e.ended_at IS NOT NULL OR e.last_change IS NOT NULL) AS recent_history
    FROM params p
    LEFT JOIN earlier e USING (cid)
),
decided AS (
    SELECT
        p.*, h.* EXCLUDE (cid),
        CASE
            WHEN p.properties_problem IS NOT NULL THEN 'properties_unreadable'
            WHEN p.upgrade_settings_type IS NOT NULL AND p.upgrade_settings_type NOT IN ('OBJECT', 'NULL')
                THEN 'settings_not_object'
            WHEN p.settings_type IS NOT NULL AND p.settings_type NOT IN ('OBJECT', 'NULL') THEN 'override_not_object'
            WHEN p.force_type IS NOT NULL AND p.force_type NOT IN ('BOOLEAN', 'NULL') THEN 'force_unreadable'
            WHEN p.force_upgrade AND p.until_raw IS NULL THEN 'armed_without_until'
            WHEN p.force_upgrade AND p.until_utc IS NULL THEN 'until_unreadable'
            WHEN p.force_upgrade AND p.until_utc > p.scan_at THEN 'armed'
            WHEN p.force_upgrade AND p.until_utc >= p.horizon THEN 'ended_recently'
            WHEN h.recent_history THEN 'recent_history'
            ELSE 'none'
        END AS reason
    FROM params p
    JOIN history h USING (cid)
),
worded AS (
    SELECT
        *,
        round((epoch(until_utc) - epoch(scan_at)) / 86400.0, 1) AS days_left,
        strftime(until_utc, '%Y-%m-%d %H:%M UTC') AS until_text,
        CASE WHEN recent_history THEN
            'the upgrade ledger shows an override within the last ' || days_text(recent_days) || ': '
            -- Each part is NULL without its sighting, and concat_ws leaves NULL parts out.
            || concat_ws('; ',
                   'armed in the scan of ' || strftime(armed_seen_at, '%Y-%m-%d %H:%M UTC'),
                   'in force until ' || strftime(ended_at, '%Y-%m-%d %H:%M UTC'),
                   changes || ' change(s) of its settings, the latest ' || last_change)
        END AS history_text
    FROM decided
)
SELECT
    cluster_id AS resource_id,
    NULL AS node_pool,
    CASE reason
        WHEN 'armed_without_until' THEN 'fail'
        WHEN 'armed' THEN 'fail'
        WHEN 'ended_recently' THEN 'warn'
        WHEN 'recent_history' THEN 'warn'
        WHEN 'none' THEN 'pass'
        ELSE 'unknown'
    END AS status,
    CASE reason
        WHEN 'properties_unreadable' THEN
            properties_problem || ': whether an upgrade override is set cannot be told'
        WHEN 'settings_not_object' THEN
            'upgradeSettings is ' || json_kind(upgrade_settings_type) || ', not an object: the override cannot be read'
        WHEN 'override_not_object' THEN
            'upgradeSettings.overrideSettings is ' || json_kind(settings_type) || ', not an object: the override cannot be read'
        WHEN 'force_unreadable' THEN
            'overrideSettings.forceUpgrade is ''' || force_raw || ''' (' || json_kind(force_type)
            || '), not true or false: whether upgrades bypass their safety checks cannot be told'
        WHEN 'armed_without_until' THEN
            'forceUpgrade is true with no until: nothing bounds the override (Microsoft says an override needs until '
            || 'to take effect, but setting one arms it at once): upgrades may skip the deprecated-API check and '
            || 'the PodDisruptionBudget checks'
        WHEN 'until_unreadable' THEN
            'forceUpgrade is true and until ''' || until_raw || ''' is not a date-time: when the override ends cannot be told'
        WHEN 'armed' THEN
            'an upgrade override is in force until ' || until_text || ' (' || days_left || ' days after the scan): '
            || 'any upgrade that starts before then skips the deprecated-API check and the PodDisruptionBudget checks'
        WHEN 'ended_recently' THEN
            'an upgrade override ended on ' || until_text || ', ' || (-days_left) || ' days before the scan (within '
            || recent_days || '): upgrades started until then bypassed the safety checks, and forceUpgrade is still '
            || 'true (a new until re-arms it)'
            || coalesce('; ' || history_text, '')
        WHEN 'recent_history' THEN
            CASE WHEN force_upgrade
                 THEN 'forceUpgrade is still true but its until (' || until_text || ') passed ' || (-days_left)
                      || ' days ago; ' || history_text
                 ELSE 'no override now, but ' || history_text END
        ELSE
            CASE WHEN force_upgrade
                 THEN 'no override in force: forceUpgrade is still true but its until (' || until_text || ') passed '
                      || (-days_left) || ' days ago, more than ' || recent_days || ' (a new until would re-arm it)'
                 WHEN force_upgrade = false THEN 'no upgrade override: forceUpgrade is false'
                 ELSE 'no upgrade override: upgradeSettings.overrideSettings is absent' END
    END AS message,
    'upgradeSettings.overrideSettings.forceUpgrade=' || coalesce(force_raw, 'absent')
        || '; until=' || coalesce(until_raw, 'absent')
        || '; ledger: ' || CASE WHEN recent_history THEN 'override evidence within ' || days_text(recent_days)
                                ELSE 'no override in the last ' || days_text(recent_days) END AS evidence,
    NULL AS target
FROM worded;
