-- The block size and the blocks in use of the open database: the size its file must at least have (auditor/store.py).
SELECT block_size, used_blocks FROM pragma_database_size() LIMIT 1;
