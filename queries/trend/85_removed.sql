-- Runs that ended because the resource was gone.
SELECT count(*) FROM _tgone WHERE ended_by = 'gone'
