-- Barrier-free city (issue 11): the social-taxi service area. The city's social taxi carries
-- residents with disabilities and limited mobility door to door inside its service area, booked
-- by phone. The operator's area is drawn (or imported) by staff; the demo derives one from the
-- city boundary (layers/modules.SeedSocialTaxiArea).
SELECT geoportal.create_layer($def${"slug": "social_taxi_area", "direction": 6, "geometry_type": "MultiPolygon",
 "title_en": "Social taxi service area", "title_ru": "Зона обслуживания социального такси", "title_kk": "Әлеуметтік такси қызмет көрсету аймағы",
 "description_en": "Where the social taxi picks up and drops off residents with disabilities (book by phone).",
 "description_ru": "Где социальное такси забирает и доставляет людей с инвалидностью (заказ по телефону).",
 "description_kk": "Әлеуметтік такси мүгедектігі бар тұрғындарды қай жерден алып, қайда жеткізеді (телефон арқылы тапсырыс).",
 "attributes": [
  {"name": "operator", "type": "text", "title": {"en": "Operator", "ru": "Перевозчик", "kk": "Тасымалдаушы"}, "popup": true},
  {"name": "phone", "type": "text", "title": {"en": "Booking phone", "ru": "Телефон для заказа", "kk": "Тапсырыс телефоны"}, "popup": true},
  {"name": "hours", "type": "text", "title": {"en": "Hours", "ru": "Часы работы", "kk": "Жұмыс уақыты"}, "popup": true},
  {"name": "who", "type": "text", "title": {"en": "Who may ride", "ru": "Кто может заказать", "kk": "Кім тапсырыс бере алады"}, "popup": true}],
 "style": {"type": "fill", "paint": {"fill-color": "#1e88e5", "fill-opacity": 0.08, "fill-outline-color": "#1565c0"}},
 "min_zoom": 0, "max_zoom": 22, "sort_order": 245, "attribution": "Demo data generated for the Aktobe geoportal"}$def$);
