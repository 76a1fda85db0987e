-- Issue 16, part 6: a childcare institution's monthly bills (托育费账单),
-- laoxiao_store::childcare_bills. The institution's prices besides each
-- class's monthly fee, one bill per enrolment and month with its lines, and
-- the payments recorded against it.

-- An institution's price list (收费标准): half-day, hourly and temporary care,
-- the meal refund per absent day. Amounts in fen.
CREATE TABLE childcare_price (
    facility_id TEXT NOT NULL REFERENCES facility (id),
    item TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (facility_id, item)
);

-- One bill per enrolment and month (YYYY-MM). `lines` is the JSON of its
-- lines (each with the price it used, so a later price change leaves it be);
-- `subsidy_fen` is the inclusive operating subsidy the institution receives
-- for the child that month (shown, never deducted: the government pays it).
CREATE TABLE childcare_bill (
    id TEXT PRIMARY KEY,
    month TEXT NOT NULL,
    enrolment_id TEXT NOT NULL REFERENCES enrolment (id),
    infant_id TEXT NOT NULL REFERENCES person (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    facility_path TEXT NOT NULL,
    class_id TEXT,
    care_type TEXT NOT NULL,
    due_fen INTEGER NOT NULL,
    paid_fen INTEGER NOT NULL DEFAULT 0,
    subsidy_fen INTEGER NOT NULL DEFAULT 0,
    lines TEXT NOT NULL,
    due_date TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (month, enrolment_id)
);
CREATE INDEX childcare_bill_facility_idx ON childcare_bill (facility_id, month);
CREATE INDEX childcare_bill_infant_idx ON childcare_bill (infant_id, month);
CREATE INDEX childcare_bill_path_idx ON childcare_bill (facility_path, month);

-- A payment against a bill (缴费记录).
CREATE TABLE childcare_payment (
    id TEXT PRIMARY KEY,
    bill_id TEXT NOT NULL REFERENCES childcare_bill (id),
    amount_fen INTEGER NOT NULL,
    method TEXT NOT NULL,
    paid_on TEXT NOT NULL,
    reference TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX childcare_payment_bill_idx ON childcare_payment (bill_id);
