-- Services families order (子女网上下单): the service catalogue register
-- (服务目录), family links (家属关联: account ↔ elderly person, verified by
-- staff of the person's area) and orders (服务订单) with their payment split
-- (service voucher first, the family the rest). See `family.rs` and
-- docs/family.md.
CREATE TABLE service_item (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES facility (id),
    category TEXT NOT NULL,
    name TEXT NOT NULL,
    price_fen INTEGER NOT NULL,
    unit TEXT NOT NULL,
    areas_served TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX service_item_facility_idx ON service_item (facility_id, id);

CREATE TABLE family_link (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    person_id TEXT NOT NULL REFERENCES person (id),
    -- The person's area path when requested (staff of that area verify).
    person_path TEXT NOT NULL,
    -- child, spouse, other
    relationship TEXT NOT NULL,
    -- requested, verified, refused, revoked
    status TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_reason TEXT
);
-- One requested and one verified link at most per account and person (the
-- store refuses a request while either is live).
CREATE UNIQUE INDEX family_link_requested_idx ON family_link (username, person_id)
    WHERE status = 'requested';
CREATE UNIQUE INDEX family_link_verified_idx ON family_link (username, person_id)
    WHERE status = 'verified';
CREATE INDEX family_link_path_idx ON family_link (status, person_path);

CREATE TABLE service_order (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    -- The client's request id: the same one again changes nothing.
    client_request_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES person (id),
    person_path TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES service_item (id),
    facility_id TEXT NOT NULL REFERENCES facility (id),
    facility_path TEXT NOT NULL,
    category TEXT NOT NULL,
    item_name TEXT NOT NULL,
    unit TEXT NOT NULL,
    unit_price_fen INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    total_fen INTEGER NOT NULL,
    voucher_fen INTEGER NOT NULL,
    family_fen INTEGER NOT NULL,
    -- The voucher's monthly amount and the balance before this order (the explanation).
    voucher_monthly_fen INTEGER NOT NULL,
    voucher_balance_fen INTEGER NOT NULL,
    voucher_name TEXT,
    service_date TEXT NOT NULL,
    -- YYYY-MM of the service date: the voucher month and the settlement month.
    month TEXT NOT NULL,
    note TEXT,
    -- placed, accepted, delivered, rated, cancelled, refused
    status TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    accepted_by TEXT,
    accepted_at TEXT,
    delivered_date TEXT,
    delivered_by TEXT,
    delivered_at TEXT,
    service_record_id TEXT,
    rating INTEGER,
    rating_comment TEXT,
    rated_at TEXT,
    closed_by TEXT,
    closed_at TEXT,
    close_reason TEXT,
    UNIQUE (username, client_request_id)
);
CREATE INDEX service_order_person_idx ON service_order (person_id, month);
CREATE INDEX service_order_facility_idx ON service_order (facility_id, status, month);
CREATE INDEX service_order_month_idx ON service_order (month, facility_path);
