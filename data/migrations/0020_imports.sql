-- Import history: one row per import (or dry run, or failed import) with its report.
CREATE TABLE geoportal.imports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    layer        text NOT NULL,
    mode         text NOT NULL CHECK (mode IN ('create','replace','append','upsert')),
    status       text NOT NULL CHECK (status IN ('ok','failed','dry_run')),
    source       text NOT NULL,
    format       text NOT NULL DEFAULT '',
    encoding     text NOT NULL DEFAULT '',
    crs          text NOT NULL DEFAULT '',
    srid         integer,
    read         bigint NOT NULL DEFAULT 0,
    written      bigint NOT NULL DEFAULT 0,
    inserted     bigint NOT NULL DEFAULT 0,
    updated      bigint NOT NULL DEFAULT 0,
    deleted      bigint NOT NULL DEFAULT 0,
    repaired     bigint NOT NULL DEFAULT 0,
    rejected     bigint NOT NULL DEFAULT 0,
    -- [{"record": n, "reason": "..."}], the first 1000
    rejections   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(rejections) = 'array'),
    warnings     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(warnings) = 'array'),
    error        text,
    username     text,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms  bigint NOT NULL DEFAULT 0
);
CREATE INDEX imports_layer_idx ON geoportal.imports (layer, started_at DESC);
