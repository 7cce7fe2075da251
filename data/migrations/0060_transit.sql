-- Live vehicles and transit (layers/transit): the vehicle registry, latest state per vehicle,
-- position history partitioned by day, and the GTFS static timetable.
CREATE SCHEMA IF NOT EXISTS transit;

CREATE TABLE transit.vehicles (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the tracker's unit id: IMEI or serial number (Wialon login) or any id for HTTP trackers
    device_id      text NOT NULL UNIQUE CHECK (device_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    plate          text NOT NULL DEFAULT '' CHECK (length(plate) <= 20),
    kind           text NOT NULL DEFAULT 'bus' CHECK (kind IN ('bus', 'trolleybus', 'minibus', 'tram',
                       'municipal', 'snowplough', 'sweeper', 'garbage', 'ambulance', 'service')),
    -- GTFS route_short_name (or route_id) of the line the vehicle serves; '' for non-transit fleet
    route          text NOT NULL DEFAULT '' CHECK (length(route) <= 40),
    low_floor      boolean NOT NULL DEFAULT false,
    department     text NOT NULL DEFAULT '' CHECK (length(department) <= 100),
    -- SHA-256 of the device key sent by HTTP trackers in X-Device-Key; NULL: no HTTP ingest
    device_key_hash bytea UNIQUE,
    -- argon2id hash of the Wialon IPS password; NULL: the tracker is identified by its unit id alone
    wialon_password_hash text,
    -- the vehicle's feature in layer.vehicles (live map), created with its first position
    feature_id     bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Latest accepted position and what the vehicle is doing: one row per vehicle.
CREATE SEQUENCE transit.state_seq;
CREATE TABLE transit.vehicle_state (
    vehicle_id   bigint PRIMARY KEY REFERENCES transit.vehicles (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    lon          double precision NOT NULL,
    lat          double precision NOT NULL,
    speed_kmh    real,
    heading      real,
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- trip the vehicle is matched to, distance along its shape (m), schedule deviation (s, + late)
    trip_id      text,
    shape_dist_m double precision,
    delay_s      integer,
    -- distance to the nearest shape of the vehicle's route (m); NULL when it has no route
    off_route_m  double precision,
    -- bumped by every change; live push reads the rows changed since the last sequence it saw
    seq          bigint NOT NULL DEFAULT nextval('transit.state_seq')
);
CREATE INDEX vehicle_state_seq_idx ON transit.vehicle_state (seq);

-- Position history: every fix, accepted or flagged, idempotent by (vehicle, time).
-- flags: 1 impossible coordinates, 2 time in the future, 4 teleport (too fast since the last fix),
--        8 older than the latest fix (stored, not drawn)
CREATE TABLE transit.positions (
    vehicle_id  bigint NOT NULL,
    at          timestamptz NOT NULL,
    lon         double precision NOT NULL,
    lat         double precision NOT NULL,
    speed_kmh   real,
    heading     real,
    alt_m       real,
    sats        smallint,
    flags       smallint NOT NULL DEFAULT 0,
    source      "char" NOT NULL DEFAULT 'h', -- h: HTTP, w: Wialon IPS
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vehicle_id, at)
) PARTITION BY RANGE (at);
-- Anything outside the daily partitions (far future, or older than retention) lands here.
CREATE TABLE transit.positions_default PARTITION OF transit.positions DEFAULT;

-- Creates the daily partitions from day `first` for `days` days, moving any rows of those days
-- out of the default partition first. Idempotent.
CREATE FUNCTION transit.ensure_position_partitions(first date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    d       date;
    name    text;
    created integer := 0;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        d := first + i;
        name := 'positions_' || to_char(d, 'YYYYMMDD');
        IF to_regclass(format('transit.%I', name)) IS NOT NULL THEN
            CONTINUE;
        END IF;
        IF to_regclass('pg_temp.transit_moved') IS NULL THEN
            CREATE TEMP TABLE transit_moved (LIKE transit.positions) ON COMMIT DROP;
        END IF;
        WITH moved AS (DELETE FROM transit.positions_default
                       WHERE at >= d::timestamptz AND at < (d + 1)::timestamptz RETURNING *)
        INSERT INTO transit_moved SELECT * FROM moved;
        EXECUTE format('CREATE TABLE transit.%I PARTITION OF transit.positions FOR VALUES FROM (%L) TO (%L)',
            name, d::timestamptz, (d + 1)::timestamptz);
        INSERT INTO transit.positions SELECT * FROM transit_moved;
        TRUNCATE transit_moved;
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drops the daily partitions that end before `before`, and old rows of the default partition.
CREATE FUNCTION transit.drop_position_partitions(before timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r       record;
    dropped integer := 0;
BEGIN
    FOR r IN SELECT c.relname FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace
             WHERE n.nspname = 'transit' AND p.relname = 'positions' AND c.relname ~ '^positions_[0-9]{8}$'
    LOOP
        IF to_date(substr(r.relname, 11), 'YYYYMMDD') + 1 <= before::date THEN
            EXECUTE format('DROP TABLE transit.%I', r.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    DELETE FROM transit.positions_default WHERE at < before;
    RETURN dropped;
END
$$;

SELECT transit.ensure_position_partitions(current_date - 1, 4);

-- GTFS static timetable (only what the geoportal uses).
CREATE TABLE transit.agencies (
    agency_id  text PRIMARY KEY,
    name       text NOT NULL,
    url        text NOT NULL DEFAULT '',
    timezone   text NOT NULL
);

CREATE TABLE transit.routes (
    route_id    text PRIMARY KEY,
    agency_id   text,
    short_name  text NOT NULL DEFAULT '',
    long_name   text NOT NULL DEFAULT '',
    route_type  integer NOT NULL,
    color       text NOT NULL DEFAULT ''
);

CREATE TABLE transit.stops (
    stop_id   text PRIMARY KEY,
    code      text NOT NULL DEFAULT '',
    name      text NOT NULL DEFAULT '',
    geom      geometry(Point, 4326) NOT NULL,
    wheelchair_boarding smallint NOT NULL DEFAULT 0
);
CREATE INDEX stops_geom_idx ON transit.stops USING gist (geom);

CREATE TABLE transit.calendar (
    service_id text PRIMARY KEY,
    -- monday .. sunday
    days       boolean[] NOT NULL CHECK (cardinality(days) = 7),
    start_date date NOT NULL,
    end_date   date NOT NULL
);

CREATE TABLE transit.shapes (
    shape_id text PRIMARY KEY,
    geom     geometry(LineString, 4326) NOT NULL,
    length_m double precision NOT NULL
);

CREATE TABLE transit.trips (
    trip_id      text PRIMARY KEY,
    route_id     text NOT NULL REFERENCES transit.routes ON DELETE CASCADE,
    service_id   text NOT NULL,
    headsign     text NOT NULL DEFAULT '',
    direction_id smallint,
    shape_id     text REFERENCES transit.shapes,
    -- first departure and last arrival, seconds after noon minus 12 h (GTFS times may pass 24:00)
    start_s      integer NOT NULL,
    end_s        integer NOT NULL
);
CREATE INDEX trips_route_idx ON transit.trips (route_id);

CREATE TABLE transit.stop_times (
    trip_id       text NOT NULL REFERENCES transit.trips ON DELETE CASCADE,
    stop_sequence integer NOT NULL,
    stop_id       text NOT NULL REFERENCES transit.stops,
    arrival_s     integer NOT NULL,
    departure_s   integer NOT NULL,
    -- distance of the stop along the trip's shape, metres
    dist_m        double precision NOT NULL,
    PRIMARY KEY (trip_id, stop_sequence)
);
CREATE INDEX stop_times_stop_idx ON transit.stop_times (stop_id);
