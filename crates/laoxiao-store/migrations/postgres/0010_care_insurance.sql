-- 享受长护险待遇 (long-term care insurance benefits) of an elderly person:
-- a field of the elderly register (laoxiao_model::person).
ALTER TABLE person ADD COLUMN care_insurance BOOLEAN NOT NULL DEFAULT FALSE;
