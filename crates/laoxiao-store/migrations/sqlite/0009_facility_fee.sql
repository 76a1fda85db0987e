-- 月收费 of a facility (issue 10's worked example of adding a field), in fen.
ALTER TABLE facility ADD COLUMN monthly_fee INTEGER;
