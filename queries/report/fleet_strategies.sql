-- Each fleet's update strategies (the stages as raw JSON).
SELECT fleet_key, name, CAST(strategy AS VARCHAR) FROM fleet_strategies ORDER BY fleet_key, name
