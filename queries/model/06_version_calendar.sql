-- The bundled AKS calendar (auditor/catalog): GA, end of support and LTS end of every minor ($calendar, one
-- struct per minor, dates as ISO text or NULL).
CREATE OR REPLACE TEMP TABLE version_calendar AS
SELECT
    m.minor::VARCHAR AS minor, minor_num(m.minor::VARCHAR) AS minor_num, m.aks_ga::DATE AS aks_ga,
    m.end_of_support::DATE AS end_of_support, m.platform_support_end::DATE AS platform_support_end,
    m.lts_end::DATE AS lts_end
FROM (SELECT unnest($calendar::STRUCT(minor VARCHAR, aks_ga VARCHAR, end_of_support VARCHAR,
                                      platform_support_end VARCHAR, lts_end VARCHAR)[]) AS m);
