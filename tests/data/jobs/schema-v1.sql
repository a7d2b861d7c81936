CREATE TABLE IF NOT EXISTS jobs(
  id TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  description TEXT NOT NULL,
  targets TEXT NOT NULL,       -- a JSON array of strings
  continuous INTEGER NOT NULL,
  status TEXT NOT NULL,
  in_progress_timeout_minutes INTEGER NOT NULL,
  force_canceled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_updated_at INTEGER NOT NULL,
  completed_at INTEGER NOT NULL,
  open_executions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions(
  thing TEXT NOT NULL,
  job_id TEXT NOT NULL,
  status TEXT NOT NULL,
  status_details TEXT NOT NULL,  -- a JSON object of strings
  version INTEGER NOT NULL,
  execution_number INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  queued_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_updated_at INTEGER NOT NULL,
  in_progress_timeout_minutes INTEGER NOT NULL,
  in_progress_deadline INTEGER NOT NULL,
  step_deadline INTEGER NOT NULL,
  PRIMARY KEY(thing, job_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS executions_by_job ON executions(job_id);
-- A job and an execution as the first release wrote them (no config, no retry_attempt).
INSERT INTO jobs VALUES('fw', '{"url":"x"}', '', '["thing/a"]', 0, 'IN_PROGRESS', 0, 0,
  1700000000, 1700000000, 0, 1);
INSERT INTO executions VALUES('a', 'fw', 'IN_PROGRESS', '{"p":"1"}', 2, 1, 1, 1700000000,
  1700000001, 1700000001, 0, 0, 0);
