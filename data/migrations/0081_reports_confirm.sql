-- Citizen reports: the optional confirmation of a reporter's (or supporter's) e-mail or phone
-- (layers/reports/confirm.go). A contact that left an address gets a single-use code and link;
-- only confirmed contacts hear of status changes, so nobody can subscribe someone else's inbox
-- or phone to a stream of messages.

-- Messages go out by e-mail or by SMS; a message carrying a secret (a confirmation code) has its
-- body wiped once it is sent.
ALTER TABLE reports.outbox
    ADD COLUMN channel text NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms')),
    ADD COLUMN sensitive boolean NOT NULL DEFAULT false;
DROP INDEX reports.outbox_unsent_idx;
CREATE INDEX outbox_unsent_idx ON reports.outbox (channel, created_at) WHERE sent_at IS NULL;

-- Who follows a report, by which channel, and since when it is confirmed.
CREATE TABLE reports.contacts (
    report_id     bigint NOT NULL REFERENCES layer.citizen_reports (id) ON DELETE CASCADE,
    channel       text NOT NULL CHECK (channel IN ('email', 'sms')),
    address       text NOT NULL CHECK (address <> ''),
    role          text NOT NULL CHECK (role IN ('reporter', 'supporter')),
    confirmed_at  timestamptz,
    PRIMARY KEY (report_id, channel, address)
);

-- Confirmation codes: only their keyed hashes are kept; each is single-use, expires and takes a
-- few wrong guesses at most.
CREATE TABLE reports.confirmations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   bigint NOT NULL,
    channel     text NOT NULL,
    address     text NOT NULL,
    address_key text NOT NULL,          -- hash of the address, for the per-address daily limit
    code_hash   bytea NOT NULL,         -- HMAC-SHA-256 of the short code, keyed per server
    link_hash   bytea NOT NULL UNIQUE,  -- SHA-256 of the link secret
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    FOREIGN KEY (report_id, channel, address) REFERENCES reports.contacts ON DELETE CASCADE
);
CREATE INDEX confirmations_contact_idx ON reports.confirmations (report_id, channel, address, created_at DESC);
CREATE INDEX confirmations_address_idx ON reports.confirmations (address_key, created_at DESC);

INSERT INTO reports.secrets (name, value)
VALUES ('confirm', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- Contacts of reports filed before this migration, unconfirmed.
INSERT INTO reports.contacts (report_id, channel, address, role)
SELECT report_id, 'email', email, 'reporter' FROM reports.private WHERE email <> ''
UNION
SELECT report_id, 'sms', phone, 'reporter' FROM reports.private WHERE phone <> ''
ON CONFLICT DO NOTHING;
INSERT INTO reports.contacts (report_id, channel, address, role)
SELECT report_id, 'email', email, 'supporter' FROM reports.supporters WHERE email <> ''
ON CONFLICT DO NOTHING;
