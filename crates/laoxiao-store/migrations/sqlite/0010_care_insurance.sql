-- 享受长护险待遇 (long-term care insurance benefits) of an elderly person:
-- a field of the elderly register (laoxiao_model::person). BOOLEAN, as the
-- schema parity test asks of a new boolean column (0/1 kept as integers).
ALTER TABLE person ADD COLUMN care_insurance BOOLEAN NOT NULL DEFAULT 0;
