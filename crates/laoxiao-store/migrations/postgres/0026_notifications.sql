-- Issue 16, part 5: parents in the loop. The outbox of notifications to
-- family accounts (通知), what the delivery worker handed to a channel, and
-- the messages between a family and its child's class (家园沟通).
-- See laoxiao_store::notify, laoxiao_store::childcare_messages and
-- docs/notifications.md.

-- One notification per event and recipient account, written in the same
-- transaction as the event. It is the family's inbox (站内通知) at once and
-- the outbox the worker delivers from. `params` is the JSON of the
-- template's parameters (only what the recipient may see); `dedupe` keeps an
-- event that is recorded twice (a bill recomputed with the same amount, the
-- daily report) from notifying twice.
CREATE TABLE notification (
    id TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    template TEXT NOT NULL,
    params TEXT NOT NULL,
    link TEXT,
    dedupe TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    read_at TEXT,
    -- pending, sent, failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    not_before TEXT NOT NULL,
    channel TEXT,
    receipt TEXT,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX notification_due_idx ON notification (status, not_before);
CREATE INDEX notification_account_idx ON notification (account, created_at);

-- What the local stand-in channel delivered (本地投递记录): the rendered
-- text as an SMS or WeChat adapter would have sent it. The console shows it
-- to the city administrator; the tests read it.
CREATE TABLE notification_delivery (
    id TEXT COLLATE "C" PRIMARY KEY,
    notification_id TEXT COLLATE "C" NOT NULL REFERENCES notification (id),
    channel TEXT NOT NULL,
    account TEXT COLLATE "C" NOT NULL,
    text TEXT NOT NULL,
    delivered_at TEXT NOT NULL
);
CREATE INDEX notification_delivery_at_idx ON notification_delivery (delivered_at);

-- A message in the thread between a child's family and the class (家园沟通),
-- or a notice to the whole class (班级通知: enrolment_id NULL).
CREATE TABLE childcare_message (
    id TEXT COLLATE "C" PRIMARY KEY,
    facility_id TEXT COLLATE "C" NOT NULL REFERENCES facility (id),
    facility_path TEXT COLLATE "C" NOT NULL,
    class_id TEXT COLLATE "C",
    enrolment_id TEXT COLLATE "C" REFERENCES enrolment (id),
    infant_id TEXT COLLATE "C" REFERENCES person (id),
    -- family, institution
    side TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- When the other side first read it.
    read_at TEXT
);
CREATE INDEX childcare_message_enrolment_idx ON childcare_message (enrolment_id, created_at);
CREATE INDEX childcare_message_class_idx ON childcare_message (class_id, created_at);
CREATE INDEX childcare_message_facility_idx ON childcare_message (facility_id, created_at);

-- When the family was told the bill is overdue (once per bill).
ALTER TABLE childcare_bill ADD COLUMN overdue_noticed_at TEXT;
