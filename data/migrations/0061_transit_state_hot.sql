-- The live push now reads vehicle state by vehicle id (from the notification), not by sequence:
-- without the sequence index the once-a-second state updates can be HOT (no index writes), and
-- half-empty pages leave them room to be.
DROP INDEX transit.vehicle_state_seq_idx;
ALTER TABLE transit.vehicle_state SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
