-- The canonical JSON of each distinct tags and waiver text of eval_findings ($parts: kind 'tags' or 'waiver', the
-- text as stored, its canonical form encoded in Python), for queries/report/findings_json.sql to splice in.
CREATE OR REPLACE TEMP TABLE digest_parts AS
SELECT unnest($parts::STRUCT(kind VARCHAR, raw VARCHAR, canonical VARCHAR)[], recursive := true);
