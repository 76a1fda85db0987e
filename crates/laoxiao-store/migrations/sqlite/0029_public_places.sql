-- Issue 17 part 1: what the public portal shows of a place beyond the
-- register's other public fields: its opening hours (开放时间, a subset of
-- the OpenStreetMap opening_hours syntax, laoxiao_model::hours) and the
-- number it publishes for enquiries (对外咨询电话; `phone` stays internal).
ALTER TABLE facility ADD COLUMN opening_hours TEXT;
ALTER TABLE facility ADD COLUMN public_phone TEXT;
