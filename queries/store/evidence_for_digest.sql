-- A stored scan's evidence in sequence order, as its digest hashes it (auditor/store.py stored_evidence_digest).
SELECT seq, kind, scope, request, CAST(payload AS VARCHAR) FROM evidence WHERE scan_id = $scan_id ORDER BY seq;
