-- The trend's working tables.
DROP TABLE IF EXISTS _tsel;
DROP TABLE IF EXISTS _tobs;
DROP TABLE IF EXISTS _tkeys;
DROP TABLE IF EXISTS _tf;
DROP TABLE IF EXISTS _tmask;
DROP VIEW IF EXISTS _tchanges;
DROP TABLE IF EXISTS _tnew;
DROP TABLE IF EXISTS _tgone;
RESET perfect_ht_threshold;
