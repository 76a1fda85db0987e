-- Placeholder on branch i15-alarms only: migration 0016 belongs to another
-- part of issue 15. Delete this file when merging (the real 0016 replaces it).
SELECT 1;
