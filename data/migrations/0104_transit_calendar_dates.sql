-- GTFS calendar_dates.txt: service added (1) or removed (2) on one date. A feed may define its
-- services with these alone (no calendar.txt), as the GTFS reference allows.
CREATE TABLE transit.calendar_dates (
    service_id     text NOT NULL,
    date           date NOT NULL,
    exception_type smallint NOT NULL CHECK (exception_type IN (1, 2)),
    PRIMARY KEY (service_id, date)
);
