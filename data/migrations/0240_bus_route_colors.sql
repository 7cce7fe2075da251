-- Bus routes in their own colours (issue #24, point 9): the colour of each route as its GTFS
-- feed gives it (routes.txt route_color, written by the GTFS import as '#rrggbb'; the demo
-- network gets distinct colours), drawn by the layer's style; the web map writes each route's
-- number (ref, route_short_name) along its line. A route without a colour keeps the green.
SELECT geoportal.add_attribute('bus_routes',
  '{"name": "color", "type": "text", "title": {"en": "Colour", "ru": "Цвет", "kk": "Түсі"}, "popup": false}'::jsonb);

UPDATE geoportal.layers SET style = jsonb_set(style, '{paint,line-color}', '["to-color", ["get", "color"], "#43a047"]'::jsonb),
  updated_at = now()
WHERE slug = 'bus_routes' AND style #>> '{paint,line-color}' = '#43a047';
