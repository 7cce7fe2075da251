-- Wialon IPS tracker credentials in one place (auth.tracker_passwords), and no login without one.
-- Until now a unit's password was either transit.vehicles.wialon_password_hash or the row of
-- auth.tracker_passwords with its unit id, and a vehicle with neither logged in with any password
-- (deleting its tracker row unlocked it). From now on a unit logs in only with the password of
-- its auth.tracker_passwords row, or, when an administrator marked the row open, with any.

-- An open row has no password: "open" is an explicit, audited choice, never the absence of a row.
ALTER TABLE auth.tracker_passwords ALTER COLUMN password_hash DROP NOT NULL;
ALTER TABLE auth.tracker_passwords ADD COLUMN open boolean NOT NULL DEFAULT false;
ALTER TABLE auth.tracker_passwords ADD CONSTRAINT tracker_passwords_password_or_open
    CHECK ((password_hash IS NULL) = open);

-- The vehicles' own hashes move over unchanged (argon2id; they verify as before). The vehicle's
-- own won over the accounts row before (coalesce), so it wins here too: the replaced accounts
-- hash never opened anything (the audit log records the replacement, not the hash).
INSERT INTO auth.audit_log (actor, action, object_type, object_id, before, detail)
SELECT 'migration 0103', 'tracker.password', 'tracker', v.device_id,
       CASE WHEN tp.login IS NULL THEN NULL
            ELSE jsonb_build_object('login', tp.login, 'note', tp.note) END,
       'password moved from transit.vehicles.wialon_password_hash'
FROM transit.vehicles v LEFT JOIN auth.tracker_passwords tp ON tp.login = v.device_id
WHERE v.wialon_password_hash IS NOT NULL;

INSERT INTO auth.tracker_passwords (login, password_hash, note)
SELECT device_id, wialon_password_hash, 'moved from the vehicle registry'
FROM transit.vehicles WHERE wialon_password_hash IS NOT NULL
ON CONFLICT (login) DO UPDATE SET password_hash = excluded.password_hash, updated_at = now();

ALTER TABLE transit.vehicles DROP COLUMN wialon_password_hash;

-- Vehicles that had no password at all are now refused until one is set (or the unit is marked
-- open on the admin page). Say so in the audit log, once per vehicle, for the administrator.
INSERT INTO auth.audit_log (actor, action, object_type, object_id, detail)
SELECT 'migration 0103', 'tracker.locked', 'tracker', v.device_id,
       'the unit had no tracker password and logged in with any; it is refused until one is set or it is marked open'
FROM transit.vehicles v
WHERE NOT EXISTS (SELECT 1 FROM auth.tracker_passwords tp WHERE tp.login = v.device_id);
