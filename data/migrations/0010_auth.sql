-- Accounts, sessions, API keys, tracker passwords and the audit log (layers/accounts).
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role          text NOT NULL CHECK (role IN ('citizen', 'gis_staff', 'planner', 'department_staff',
                                                'dispatcher', 'admin')),
    department    text NOT NULL DEFAULT '' CHECK (length(department) <= 100),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'department_staff' OR department <> '')
);
CREATE UNIQUE INDEX users_email_key ON auth.users (email);

-- Only a SHA-256 of the session token is stored: a copy of this table opens no session.
CREATE TABLE auth.sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    user_id      bigint NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON auth.sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE auth.api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON auth.api_keys (user_id);

-- Wialon IPS logins of GPS trackers: the login is the unit id, the password is hashed (argon2id).
CREATE TABLE auth.tracker_passwords (
    login         text PRIMARY KEY CHECK (length(login) BETWEEN 1 AND 100),
    password_hash text NOT NULL,
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Every write and every login attempt. Rows are only ever inserted.
CREATE TABLE auth.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint REFERENCES auth.users (id) ON DELETE SET NULL,
    actor       text NOT NULL DEFAULT '',
    action      text NOT NULL CHECK (action <> ''),
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    before      jsonb,
    after       jsonb,
    ip          text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON auth.audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON auth.audit_log (actor, at DESC);
CREATE INDEX audit_log_action_idx ON auth.audit_log (action, at DESC);
