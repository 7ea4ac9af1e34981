-- AKS end-of-support notices (aks-end-of-support-notifications.md): scheduled events whose eventSource is
-- EOLNotification, with eventDetails {kubernetesVersion, eolDate, supportType, daysUntilEOL, region} (an object, or
-- that object as a JSON string). They are a second source for AKS-VER-02 beside the bundled calendar; they are not
-- upgrades, so the ledger's fold leaves them out (queries/history/fold.sql takes only AutoUpgrader events).
-- One row per cluster and minor: the latest notice (lastUpdateTime, else scheduledTime; then the event id).
CREATE OR REPLACE TEMP TABLE eol_notices AS
WITH rows AS (
    SELECT
        e.scope AS event_id,
        lower(coalesce(
            nullif(regexp_extract(e.scope, '^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.containerservice/managedclusters/[^/]+)', 1, 'i'), ''),
            e.payload->'$.properties.resources'->>0)) AS cluster_key,
        e.payload->'$.properties' AS p
    FROM evidence e
    WHERE e.scan_id = $scan_id AND e.kind = 'scheduled_event'
      AND lower(e.payload->>'$.properties.eventSource') = 'eolnotification'
),
detailed AS (
    SELECT
        *,
        CASE json_type(p, '$.eventDetails')
            WHEN 'OBJECT' THEN p->'$.eventDetails'
            WHEN 'VARCHAR' THEN TRY_CAST(p->>'$.eventDetails' AS JSON)
        END AS d
    FROM rows
),
shaped AS (
    SELECT
        cluster_key,
        event_id,
        p->>'$.description'                                                      AS notice,
        trim(d->>'$.kubernetesVersion')                                          AS version,
        minor_num(trim(d->>'$.kubernetesVersion'))                               AS minor_num,
        TRY_CAST(left(d->>'$.eolDate', 10) AS DATE)                              AS eol_date,
        d->>'$.supportType'                                                      AS support_type,
        coalesce(
            CASE WHEN year(timezone('UTC', TRY_CAST(p->>'$.lastUpdateTime' AS TIMESTAMPTZ))) > 1900
                 THEN timezone('UTC', TRY_CAST(p->>'$.lastUpdateTime' AS TIMESTAMPTZ)) END,
            CASE WHEN year(timezone('UTC', TRY_CAST(p->>'$.scheduledTime' AS TIMESTAMPTZ))) > 1900
                 THEN timezone('UTC', TRY_CAST(p->>'$.scheduledTime' AS TIMESTAMPTZ)) END) AS noticed_at
    FROM detailed
    WHERE cluster_key IS NOT NULL
)
SELECT *
FROM shaped
WHERE minor_num IS NOT NULL AND eol_date IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY cluster_key, minor_num
                           ORDER BY noticed_at DESC NULLS LAST, event_id DESC) = 1;
