-- The street-lighting audit's map (issue 11): lights sized by power and coloured by lamp type,
-- so discharge lamps due for LED replacement stand out.
UPDATE geoportal.layers SET style = $style${"type": "circle", "paint": {
  "circle-color": ["match", ["get", "lamp_type"], "LED", "#2e7d32", "HPS", "#ef6c00", "MH", "#1565c0", "MV", "#6a1b9a", "#757575"],
  "circle-radius": ["interpolate", ["linear"], ["zoom"],
    13, ["interpolate", ["linear"], ["coalesce", ["get", "power_w"], 100], 50, 1.5, 400, 4],
    18, ["interpolate", ["linear"], ["coalesce", ["get", "power_w"], 100], 50, 4, 400, 10]],
  "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}}$style$::jsonb,
  updated_at = now()
WHERE slug = 'street_lights';
