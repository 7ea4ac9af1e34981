DROP TABLE IF EXISTS digest_parts;
