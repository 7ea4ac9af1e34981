-- One control's rows (the view control_result over its SQL), tagged with its id.
INSERT INTO control_rows
SELECT $control_id, resource_id::VARCHAR, node_pool::VARCHAR, status::VARCHAR, message::VARCHAR, evidence::VARCHAR,
       target::VARCHAR
FROM control_result;
