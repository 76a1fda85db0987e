-- Placeholder on branch i15-alarms only: migration 0017 belongs to another
-- part of issue 15. Delete this file when merging (the real 0017 replaces it).
SELECT 1;
