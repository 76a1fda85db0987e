-- Issue 16, part 2: a childcare staff member's last health check (体检日期;
-- 托育机构管理规范 art. 28: before starting work, then once a year). Health
-- data: personal, masked in lists. The worklist counts checks lapsed or due
-- (laoxiao_store::staff_checks).
ALTER TABLE staff ADD COLUMN health_check_date TEXT;
