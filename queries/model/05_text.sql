-- Words for messages. `n days` with its singular: "1 day", "0 days", "30 days" (never "1 days").
CREATE OR REPLACE TEMP MACRO days_text(n) AS CAST(n AS VARCHAR) || CASE WHEN abs(n) = 1 THEN ' day' ELSE ' days' END;
