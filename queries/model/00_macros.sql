-- Helpers shared by the model and the controls. Temp macros live for the connection only.
-- Kubernetes minors compare as numbers, never as text ("1.9" < "1.10"): major * 1000 + minor.
CREATE OR REPLACE TEMP MACRO minor_num(v) AS
    TRY_CAST(regexp_extract(v, '^\s*(\d+)\.\d+', 1) AS INTEGER) * 1000
    + TRY_CAST(regexp_extract(v, '^\s*\d+\.(\d+)', 1) AS INTEGER);

-- The patch number of "1.33.2" (NULL for "1.33", an alias that names no patch).
CREATE OR REPLACE TEMP MACRO patch_num(v) AS TRY_CAST(regexp_extract(v, '^\s*\d+\.\d+\.(\d+)', 1) AS INTEGER);

-- maxSurge / maxUnavailable: "33%" or "1" (ENUMS.md). The number, and whether it is a percentage; NULL when neither.
CREATE OR REPLACE TEMP MACRO surge_value(v) AS TRY_CAST(regexp_extract(v, '^\s*(\d+)\s*%?\s*$', 1) AS INTEGER);
CREATE OR REPLACE TEMP MACRO surge_is_pct(v) AS regexp_matches(v, '^\s*\d+\s*%\s*$');

-- Whether node OS patching is automated (AKS-CHN-02, AKS-WIN-02): TRUE, FALSE, or NULL when the evidence cannot
-- tell. upgradeChannel node-image forces nodeOSUpgradeChannel NodeImage. A profile that lacks nodeOSUpgradeChannel
-- proves nothing (NULL); no autoUpgradeProfile at all means nothing is configured (FALSE). See docs/controls.md.
CREATE OR REPLACE TEMP MACRO node_os_automated(upgrade_channel, node_os_channel, has_profile, allowed) AS
    CASE
        WHEN lower(upgrade_channel) = 'node-image' THEN list_contains(list_transform(allowed, lambda a: lower(a)), 'nodeimage')
        WHEN node_os_channel IS NOT NULL THEN list_contains(list_transform(allowed, lambda a: lower(a)), lower(node_os_channel))
        WHEN has_profile THEN NULL
        ELSE false
    END;

-- A JSON list as JSON[]: absent (or JSON null) is the empty list, a value that is not an array is NULL, so a
-- malformed payload reads as unreadable rather than failing the whole evaluation (CAST would raise).
CREATE OR REPLACE TEMP MACRO json_items(v) AS
    CASE WHEN v IS NULL OR json_type(v) = 'NULL' THEN []::JSON[]
         WHEN json_type(v) = 'ARRAY' THEN CAST(v AS JSON[]) END;

-- Whether a value is a JSON array or absent (what json_items reads as a list).
CREATE OR REPLACE TEMP MACRO json_listish(v) AS v IS NULL OR json_type(v) IN ('NULL', 'ARRAY');
-- A JSON type (json_type()) in words, for messages about a value of the wrong shape: "a string", "a list".
CREATE OR REPLACE TEMP MACRO json_kind(t) AS
    CASE coalesce(upper(t), 'MISSING')
        WHEN 'OBJECT' THEN 'an object'
        WHEN 'ARRAY' THEN 'a list'
        WHEN 'VARCHAR' THEN 'a string'
        WHEN 'BOOLEAN' THEN 'a boolean'
        WHEN 'NULL' THEN 'null'
        WHEN 'MISSING' THEN 'missing'
        ELSE 'a number'
    END;
