-- Saved planner scenarios: an analysis (coverage, siting, cameras or access) with the
-- parameters it ran with and the answer the server computed, so two can be compared later.
CREATE TABLE geoportal.analysis_scenarios (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    kind       text NOT NULL CHECK (kind IN ('coverage', 'siting', 'cameras', 'access')),
    params     jsonb NOT NULL CHECK (jsonb_typeof(params) = 'object'),
    summary    jsonb NOT NULL CHECK (jsonb_typeof(summary) = 'object'),
    result     jsonb NOT NULL,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX analysis_scenarios_created_at ON geoportal.analysis_scenarios (created_at DESC);
