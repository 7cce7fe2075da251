-- Layers a module owns: their features change only through the module's workflow (allowed
-- transitions, department scope, history, notices, audit), so generic writes (OGC API – Features
-- create/replace/update/delete, imports) are refused with this text naming the workflow to use.
-- NULL: an ordinary layer that GIS staff edit freely.
ALTER TABLE geoportal.layers ADD COLUMN workflow text CHECK (workflow <> '');

UPDATE geoportal.layers SET workflow = 'the reports workflow: POST /api/staff/reports/{id}/status or /api/staff/reports/{id}/moderate, or the console /staff/reports (docs/reports.md); residents file reports through /api/reports or Open311'
WHERE slug = 'citizen_reports';
UPDATE geoportal.layers SET workflow = 'the transit ingest: trackers post to /api/vehicles/positions or send Wialon IPS; vehicles are registered with `geoportal vehicle` (docs/transit.md)'
WHERE slug = 'vehicles';
UPDATE geoportal.layers SET workflow = 'the outages workflow: POST /api/modules/outages and /api/modules/outages/{id}/close, or the page /staff/modules (docs/modules.md)'
WHERE slug = 'outages';
UPDATE geoportal.layers SET workflow = 'recomputing them from the clinics layer: POST /api/modules/clinics/areas, or the page /staff/modules (docs/modules.md)'
WHERE slug = 'clinic_areas';
UPDATE geoportal.layers SET workflow = 'recomputing them from the schools layer: POST /api/modules/schools/catchments, or the page /staff/modules (docs/modules.md)'
WHERE slug = 'school_catchments';
