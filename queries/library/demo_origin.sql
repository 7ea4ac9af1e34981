-- Who created a store: 'demo' for one `auditor demo` may replace.
SELECT value FROM auditor_meta WHERE key = 'origin';
