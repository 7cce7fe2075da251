-- Background analyses (layers/analysis/jobs.go) are kept here, not in one process's memory, so that
-- behind a load balancer any geoportal node answers a planner's progress poll or cancel of a job
-- another node runs. The node running a job writes its stage and progress and a heartbeat every
-- half second and reads cancel_requested; a job whose heartbeat stops (its node died) is failed by
-- the next reader. Finished jobs are deleted after ten minutes.
CREATE TABLE geoportal.analysis_jobs (
    id               text PRIMARY KEY,
    kind             text NOT NULL,
    staff            boolean NOT NULL,
    client           text NOT NULL DEFAULT '',
    node             text NOT NULL,
    state            text NOT NULL CHECK (state IN ('running', 'done', 'failed', 'canceled')),
    stage            text NOT NULL DEFAULT '',
    progress         double precision NOT NULL DEFAULT 0,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    seen_at          timestamptz NOT NULL DEFAULT now(),
    beat_at          timestamptz NOT NULL DEFAULT now(),
    cancel_requested boolean NOT NULL DEFAULT false,
    params           json,
    result           json,
    error_code       text,
    error_message    text
);
CREATE INDEX analysis_jobs_running ON geoportal.analysis_jobs (node) WHERE state = 'running';
CREATE INDEX analysis_jobs_client ON geoportal.analysis_jobs (client);
