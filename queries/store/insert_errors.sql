-- A scan's failed calls ($errors: a list of structs, in the order they were recorded).
INSERT INTO collection_errors
SELECT $scan_id, e.seq, e.call, e.scope, e.status, e.code, e.message
FROM (SELECT unnest($errors) AS e);
