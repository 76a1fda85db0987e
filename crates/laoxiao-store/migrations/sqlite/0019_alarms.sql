-- Issue 15, part 5: smart devices and alarms (智能设备与紧急呼叫).
-- device (智能设备) is a declared register (laoxiao_model::alarms::Device),
-- with the register conventions of 0002. device_platform (设备平台) holds the
-- platforms that post alarms, each with an HMAC secret encrypted with the
-- data key. alarm (告警) is the workflow (laoxiao_store::alarms): one row per
-- platform event, unique by (platform_id, event_id) for replay protection and
-- idempotence; area_path is the person's area when the alarm arrived, so
-- scoped reads need no join. alarm_intake_failure counts refused intake
-- requests per platform and reason (bad signature, clock skew, unknown
-- device, ...).
CREATE TABLE device (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES person (id),
    installed_date TEXT NOT NULL,
    owner TEXT NOT NULL,
    provider_id TEXT REFERENCES facility (id),
    platform_id TEXT NOT NULL,
    platform_device_id TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX device_person_idx ON device (person_id, kind);
CREATE INDEX device_platform_idx ON device (platform_id, platform_device_id);
CREATE INDEX device_kind_id_idx ON device (kind, id);

CREATE TABLE device_platform (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_enc TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE alarm (
    id TEXT PRIMARY KEY,
    platform_id TEXT NOT NULL REFERENCES device_platform (id),
    event_id TEXT NOT NULL,
    device_id TEXT NOT NULL REFERENCES device (id),
    person_id TEXT NOT NULL REFERENCES person (id),
    kind TEXT NOT NULL,
    area_path TEXT NOT NULL,
    provider_id TEXT,
    state TEXT NOT NULL,
    outcome TEXT,
    escalated BOOLEAN NOT NULL,
    escalated_at TEXT,
    escalation_reason TEXT,
    occurred_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    ack_due_at TEXT NOT NULL,
    reach_due_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    reached_at TEXT,
    reached_by TEXT,
    closed_at TEXT,
    closed_by TEXT,
    note TEXT,
    UNIQUE (platform_id, event_id)
);
CREATE INDEX alarm_state_area_idx ON alarm (state, area_path, received_at);
CREATE INDEX alarm_area_received_idx ON alarm (area_path, received_at);
CREATE INDEX alarm_provider_idx ON alarm (provider_id, state);
CREATE INDEX alarm_person_idx ON alarm (person_id, received_at);

CREATE TABLE alarm_intake_failure (
    platform_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (platform_id, reason)
);
