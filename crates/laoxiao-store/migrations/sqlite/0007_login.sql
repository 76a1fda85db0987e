-- Login throttling (issue 9, hole 8). Failed logins no longer lock an account:
-- each account and each client address has a failure count, and once the count
-- passes its free allowance every further attempt must wait until
-- next_attempt_at (an exponentially growing, capped interval). Kept here rather
-- than in process memory so that every app server behind a load balancer
-- shares it. The key is the SHA-256 (hex) of "account\0NAME" or
-- "address\0ADDRESS", so names typed by strangers are not stored in clear.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX login_throttle_last_idx ON login_throttle (last_failure_at);

-- The hard lock is gone: end any lock in force (the columns stay, unused).
UPDATE users SET failed_logins = 0, locked_until = NULL;
