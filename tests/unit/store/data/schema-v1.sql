-- runs.db as psr-engine wrote it at schema version 1 (frozen: do not edit).
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    manifest_path TEXT,
    manifest_digest TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    labels TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    reason TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    host TEXT,
    user TEXT,
    pid INTEGER,
    pid_started INTEGER,
    ci_url TEXT,
    run_dir TEXT,
    counts TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_status ON runs (status);
CREATE TABLE tasks (
    run_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    task_name TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    started_at REAL,
    ended_at REAL,
    duration REAL NOT NULL DEFAULT 0,
    cpu_user REAL NOT NULL DEFAULT 0,
    cpu_sys REAL NOT NULL DEFAULT 0,
    max_rss INTEGER NOT NULL DEFAULT 0,
    outputs TEXT NOT NULL DEFAULT '{}',
    matrix TEXT NOT NULL DEFAULT '{}',
    log_path TEXT,
    message TEXT,
    PRIMARY KEY (run_id, task_id)
);
CREATE TABLE attempts (
    run_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    exit_code INTEGER,
    started_at REAL,
    ended_at REAL,
    duration REAL,
    log_path TEXT,
    PRIMARY KEY (run_id, task_id, attempt)
);
INSERT INTO runs (id, workflow, params, status, started_at, ended_at, host, pid, counts)
VALUES ('20260101-000000-aaaaaa', 'old-flow', '{"date": "2026-01-01"}', 'failed',
        1767225600.0, 1767225660.0, 'elsewhere', 1, '{"succeeded": 1, "failed": 1}');
INSERT INTO tasks (run_id, task_id, task_name, status, attempts, exit_code, duration, outputs)
VALUES ('20260101-000000-aaaaaa', 'extract', 'extract', 'succeeded', 1, 0, 1.5, '{"rows": "3"}'),
       ('20260101-000000-aaaaaa', 'load', 'load', 'failed', 2, 1, 0.5, '{}');
INSERT INTO attempts (run_id, task_id, attempt, status, exit_code)
VALUES ('20260101-000000-aaaaaa', 'load', 1, 'failed', 1),
       ('20260101-000000-aaaaaa', 'load', 2, 'failed', 1);
PRAGMA user_version = 1;
