-- Placeholder on branch i15-alarms only: migration 0018 belongs to another
-- part of issue 15. Delete this file when merging (the real 0018 replaces it).
SELECT 1;
