-- Safe city (issue 19): private cameras (shops, businesses, condominiums, schools' own) that
-- their owners register to join the city's video-control system. Registrations live in
-- modules.private_cameras (layers/modules/cameras.go); safe-city staff (department_staff of
-- department safe_city, or an admin) moderate them. Approved cameras are copied by a trigger
-- into two catalog layers, so tiles stay fresh through the layers' change triggers:
-- private_cameras (public: only those whose owner agreed to be shown, never the contact) and
-- private_cameras_staff (staff only: every approved camera, with its contact).

CREATE TABLE modules.private_cameras (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES auth.users (id),
    geom             geometry(Point, 4326) NOT NULL,
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    heading          double precision NOT NULL CHECK (heading >= 0 AND heading < 360),
    fov              double precision NOT NULL CHECK (fov > 0 AND fov <= 360),
    range_m          double precision NOT NULL CHECK (range_m > 0 AND range_m <= 300),
    height_m         double precision NOT NULL CHECK (height_m > 0 AND height_m <= 100),
    films            text NOT NULL CHECK (films IN ('street', 'yard', 'entrance')),
    retention_days   integer NOT NULL CHECK (retention_days BETWEEN 1 AND 365),
    contact          text NOT NULL CHECK (length(btrim(contact)) BETWEEN 3 AND 200),
    consent_police   boolean NOT NULL CHECK (consent_police),
    consent_coverage boolean NOT NULL,
    show_public      boolean NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'changes_requested', 'approved', 'rejected', 'withdrawn')),
    reason           text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    decided_by       bigint REFERENCES auth.users (id) ON DELETE SET NULL,
    decided_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'rejected' OR reason <> ''),
    CHECK (status <> 'changes_requested' OR reason <> '')
);
CREATE INDEX private_cameras_account ON modules.private_cameras (account_id);
CREATE INDEX private_cameras_status ON modules.private_cameras (status, created_at);
CREATE INDEX private_cameras_geom ON modules.private_cameras USING gist (geom);
CREATE INDEX private_cameras_geog ON modules.private_cameras USING gist ((geom::geography));

SELECT geoportal.create_layer($def${"slug": "private_cameras", "direction": 1, "geometry_type": "Point",
 "title_en": "Private cameras in Safe City", "title_ru": "Частные камеры в «Безопасном городе»", "title_kk": "«Қауіпсіз қаладағы» жеке камералар",
 "description_en": "Cameras of shops, businesses, condominiums and schools joined to the city's video control, shown with their owners' consent.",
 "description_ru": "Камеры магазинов, предприятий, ОСИ и школ, подключённые к городскому видеоконтролю; показаны с согласия владельцев.",
 "description_kk": "Дүкендердің, кәсіпорындардың, ПИБ-тердің және мектептердің қалалық бейнебақылауға қосылған камералары; иелерінің келісімімен көрсетілген.",
 "attributes": [
  {"name": "name", "type": "text", "title": {"en": "Name", "ru": "Название", "kk": "Атауы"}, "popup": true},
  {"name": "films", "type": "text", "title": {"en": "Films", "ru": "Что снимает", "kk": "Нені түсіреді"}, "popup": true},
  {"name": "heading", "type": "double", "title": {"en": "Heading, °", "ru": "Азимут, °", "kk": "Азимут, °"}, "popup": true},
  {"name": "fov", "type": "double", "title": {"en": "Field of view, °", "ru": "Угол обзора, °", "kk": "Көру бұрышы, °"}, "popup": true},
  {"name": "range_m", "type": "double", "title": {"en": "Range, m", "ru": "Дальность, м", "kk": "Қашықтығы, м"}, "popup": true},
  {"name": "registration_id", "type": "bigint", "title": {"en": "Registration", "ru": "Регистрация", "kk": "Тіркеу"}, "popup": false}],
 "style": {"type": "circle", "paint": {"circle-color": "#6a1b9a", "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 3, 16, 7], "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}},
 "min_zoom": 0, "max_zoom": 22, "sort_order": 51, "attribution": "Registered by their owners, approved by Safe City staff"}$def$);

SELECT geoportal.create_layer($def${"slug": "private_cameras_staff", "direction": 1, "geometry_type": "Point", "visibility": "staff",
 "title_en": "Private cameras (all approved, staff)", "title_ru": "Частные камеры (все одобренные, для сотрудников)", "title_kk": "Жеке камералар (барлық мақұлданғаны, қызметкерлерге)",
 "description_en": "Every approved private camera with its owner's contact, for Safe City staff.",
 "description_ru": "Все одобренные частные камеры с контактом владельца, для сотрудников «Безопасного города».",
 "description_kk": "Иесінің байланысы бар барлық мақұлданған жеке камералар, «Қауіпсіз қала» қызметкерлеріне.",
 "attributes": [
  {"name": "name", "type": "text", "title": {"en": "Name", "ru": "Название", "kk": "Атауы"}, "popup": true},
  {"name": "films", "type": "text", "title": {"en": "Films", "ru": "Что снимает", "kk": "Нені түсіреді"}, "popup": true},
  {"name": "heading", "type": "double", "title": {"en": "Heading, °", "ru": "Азимут, °", "kk": "Азимут, °"}, "popup": true},
  {"name": "fov", "type": "double", "title": {"en": "Field of view, °", "ru": "Угол обзора, °", "kk": "Көру бұрышы, °"}, "popup": true},
  {"name": "range_m", "type": "double", "title": {"en": "Range, m", "ru": "Дальность, м", "kk": "Қашықтығы, м"}, "popup": true},
  {"name": "retention_days", "type": "integer", "title": {"en": "Retention, days", "ru": "Хранение, дней", "kk": "Сақтау, күн"}, "popup": true},
  {"name": "contact", "type": "text", "title": {"en": "Owner's contact", "ru": "Контакт владельца", "kk": "Иесінің байланысы"}, "popup": true},
  {"name": "show_public", "type": "boolean", "title": {"en": "On the public map", "ru": "На общей карте", "kk": "Жалпы картада"}, "popup": true},
  {"name": "registration_id", "type": "bigint", "title": {"en": "Registration", "ru": "Регистрация", "kk": "Тіркеу"}, "popup": false}],
 "style": {"type": "circle", "paint": {"circle-color": "#4a148c", "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 3, 16, 7], "circle-stroke-color": "#ffeb3b", "circle-stroke-width": 1}},
 "min_zoom": 0, "max_zoom": 22, "sort_order": 52, "attribution": "Registered by their owners, approved by Safe City staff"}$def$);

UPDATE geoportal.layers SET workflow = 'the private-camera registration: owners at /cameras and /api/modules/cameras, Safe City staff at /staff/cameras (docs/modules.md)'
WHERE slug IN ('private_cameras', 'private_cameras_staff');

-- The layers follow the registrations: a row is in them exactly while it is approved (the public
-- one only with the owner's consent to be shown), so a withdrawal or rejection leaves the map in
-- the same transaction.
CREATE FUNCTION modules.private_camera_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM layer.private_cameras WHERE registration_id = OLD.id;
        DELETE FROM layer.private_cameras_staff WHERE registration_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'approved' THEN
        INSERT INTO layer.private_cameras_staff (geom, name, films, heading, fov, range_m, retention_days, contact, show_public, registration_id)
        VALUES (NEW.geom, NEW.name, NEW.films, NEW.heading, NEW.fov, NEW.range_m, NEW.retention_days, NEW.contact, NEW.show_public, NEW.id);
        IF NEW.show_public THEN
            INSERT INTO layer.private_cameras (geom, name, films, heading, fov, range_m, registration_id)
            VALUES (NEW.geom, NEW.name, NEW.films, NEW.heading, NEW.fov, NEW.range_m, NEW.id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER private_camera_sync AFTER INSERT OR UPDATE OR DELETE ON modules.private_cameras
    FOR EACH ROW EXECUTE FUNCTION modules.private_camera_sync();

-- The camera owners' notices go through the reports outbox (one way of notifying): a notice
-- about a camera names it here instead of a report.
ALTER TABLE reports.outbox ADD COLUMN private_camera_id bigint REFERENCES modules.private_cameras (id) ON DELETE CASCADE;
