// The events database's schema steps, applied in order (the store's migrate:
// step i brings user_version from i to i + 1; a released step is never edited).
//
// - records: one row per queue message, async invocation or cron firing. Its
//   seq (the rowid) is publish order; `records_due` serves leasing in
//   (not_before, seq) order straight from the index.
// - lease_token counts deliveries: each lease takes the next number, and a
//   settlement must name the current one (fencing).
// - attempts: one row per ended delivery, kept with the record (dead ones too).
// - queue_stats: waiting / leased / dead per queue, kept exact by triggers in
//   the same transaction as the change, so depth checks and the autoscaler's
//   backlog are one row read instead of a count over the queue.
// - cron_marks: the latest scheduled time fired per trigger, for catch-up.
export const EVENT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    namespace TEXT NOT NULL,
    queue TEXT NOT NULL,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT,
    content_type TEXT NOT NULL,
    attributes TEXT NOT NULL,
    body_type TEXT NOT NULL,
    body BLOB NOT NULL,
    idempotency_key TEXT,
    key_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    not_before INTEGER NOT NULL,
    deadline INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    backoff_initial_ms INTEGER NOT NULL,
    backoff_max_ms INTEGER NOT NULL,
    lease_token INTEGER NOT NULL DEFAULT 0,
    leased_by TEXT,
    leased_at INTEGER,
    lease_expires_at INTEGER,
    first_started_at INTEGER,
    finished_at INTEGER,
    retain_until INTEGER,
    dead_reason TEXT,
    response_status INTEGER,
    response_headers TEXT,
    response_body BLOB,
    response_truncated INTEGER
  ) STRICT;
  CREATE INDEX records_due ON records (namespace, queue, state, not_before);
  CREATE INDEX records_lease_expiry ON records (lease_expires_at) WHERE state = 'leased';
  CREATE INDEX records_deadline ON records (deadline) WHERE state = 'ready' AND deadline IS NOT NULL;
  CREATE INDEX records_retention ON records (retain_until) WHERE retain_until IS NOT NULL;
  CREATE UNIQUE INDEX records_key ON records (namespace, queue, idempotency_key) WHERE idempotency_key IS NOT NULL;

  CREATE TABLE attempts (
    record_seq INTEGER NOT NULL REFERENCES records (seq) ON DELETE CASCADE,
    delivery INTEGER NOT NULL,
    counted INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    consumer TEXT,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    init_ms INTEGER,
    status INTEGER,
    error TEXT,
    PRIMARY KEY (record_seq, delivery)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE queue_stats (
    namespace TEXT NOT NULL,
    queue TEXT NOT NULL,
    waiting INTEGER NOT NULL DEFAULT 0,
    leased INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    last_completed_at INTEGER,
    PRIMARY KEY (namespace, queue)
  ) STRICT, WITHOUT ROWID;

  CREATE TRIGGER records_count_insert AFTER INSERT ON records BEGIN
    INSERT INTO queue_stats (namespace, queue, waiting, leased, dead)
    VALUES (new.namespace, new.queue, new.state = 'ready', new.state = 'leased', new.state = 'dead')
    ON CONFLICT (namespace, queue) DO UPDATE SET
      waiting = waiting + excluded.waiting, leased = leased + excluded.leased, dead = dead + excluded.dead;
  END;
  CREATE TRIGGER records_count_update AFTER UPDATE OF state ON records WHEN old.state <> new.state BEGIN
    UPDATE queue_stats SET
      waiting = waiting - (old.state = 'ready') + (new.state = 'ready'),
      leased = leased - (old.state = 'leased') + (new.state = 'leased'),
      dead = dead - (old.state = 'dead') + (new.state = 'dead')
    WHERE namespace = new.namespace AND queue = new.queue;
  END;
  CREATE TRIGGER records_count_delete AFTER DELETE ON records BEGIN
    UPDATE queue_stats SET
      waiting = waiting - (old.state = 'ready'),
      leased = leased - (old.state = 'leased'),
      dead = dead - (old.state = 'dead')
    WHERE namespace = old.namespace AND queue = old.queue;
  END;

  CREATE TABLE cron_marks (
    namespace TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    last_scheduled_at INTEGER NOT NULL,
    PRIMARY KEY (namespace, trigger_name)
  ) STRICT, WITHOUT ROWID;
  `
]
