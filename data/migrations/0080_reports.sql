-- Citizen reports (e-appeals, "People's chancellery"): categories owned by departments, the public
-- layer citizen_reports, and private data that never leaves the server (layers/reports, Open311).
CREATE SCHEMA IF NOT EXISTS reports;

CREATE TABLE reports.departments (
    code     text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name_kk  text NOT NULL,
    name_ru  text NOT NULL,
    name_en  text NOT NULL,
    email    text NOT NULL DEFAULT ''
);

-- Open311 "services". attributes is the service definition:
-- [{"code","datatype","required","order","description":{kk,ru,en},"values":[{"key","name":{kk,ru,en}}]}]
CREATE TABLE reports.services (
    code            text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    department      text NOT NULL REFERENCES reports.departments (code),
    name_kk         text NOT NULL,
    name_ru         text NOT NULL,
    name_en         text NOT NULL,
    description_kk  text NOT NULL DEFAULT '',
    description_ru  text NOT NULL DEFAULT '',
    description_en  text NOT NULL DEFAULT '',
    keywords        text NOT NULL DEFAULT '',
    group_name      text NOT NULL DEFAULT '',
    attributes      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attributes) = 'array'),
    sla_days        integer NOT NULL DEFAULT 10 CHECK (sla_days > 0),
    active          boolean NOT NULL DEFAULT true,
    sort_order      integer NOT NULL DEFAULT 0
);

SELECT geoportal.create_layer($def${
  "slug": "citizen_reports", "direction": 2, "geometry_type": "Point",
  "title_en": "Citizen reports", "title_ru": "Обращения граждан", "title_kk": "Азаматтардың өтініштері",
  "description_en": "Problems reported by residents, followed to the end.",
  "description_ru": "Проблемы, о которых сообщили жители, до их решения.",
  "description_kk": "Тұрғындар хабарлаған мәселелер, шешілгенге дейін.",
  "attributes": [
    {"name": "service_code", "type": "text", "popup": true, "title": {"en": "Category", "ru": "Категория", "kk": "Санат"}},
    {"name": "status", "type": "text", "popup": true, "title": {"en": "Status", "ru": "Статус", "kk": "Мәртебе"}},
    {"name": "description", "type": "text", "popup": true, "title": {"en": "Description", "ru": "Описание", "kk": "Сипаттама"}},
    {"name": "address", "type": "text", "popup": true, "title": {"en": "Address", "ru": "Адрес", "kk": "Мекенжай"}},
    {"name": "department", "type": "text", "popup": false, "title": {"en": "Department", "ru": "Отдел", "kk": "Бөлім"}},
    {"name": "requested_at", "type": "timestamptz", "popup": true, "title": {"en": "Reported", "ru": "Дата обращения", "kk": "Өтініш күні"}},
    {"name": "support_count", "type": "integer", "popup": true, "title": {"en": "Residents affected", "ru": "Поддержали", "kk": "Қолдағандар"}},
    {"name": "duplicate_of", "type": "bigint", "popup": false, "title": {"en": "Duplicate of", "ru": "Дубликат обращения", "kk": "Қайталанған өтініш"}}
  ],
  "style": {"type": "circle", "paint": {
    "circle-color": ["match", ["get", "status"], "new", "#e53935", "accepted", "#fb8c00", "in_progress", "#fdd835",
                     "resolved", "#43a047", "#9e9e9e"],
    "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 3, 16, 7],
    "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}},
  "time_column": "requested_at", "live": true, "sort_order": 5,
  "attribution": "Reports by residents of Aktobe"
}$def$::jsonb);

ALTER TABLE layer.citizen_reports
    ALTER COLUMN status SET NOT NULL,
    ALTER COLUMN status SET DEFAULT 'new',
    ADD CONSTRAINT citizen_reports_status_check CHECK (status IN
        ('new', 'accepted', 'in_progress', 'resolved', 'rejected', 'duplicate')),
    ALTER COLUMN service_code SET NOT NULL,
    ALTER COLUMN requested_at SET NOT NULL,
    ALTER COLUMN requested_at SET DEFAULT now(),
    ALTER COLUMN support_count SET NOT NULL,
    ALTER COLUMN support_count SET DEFAULT 1,
    ALTER COLUMN description SET NOT NULL,
    ALTER COLUMN description SET DEFAULT '';
CREATE INDEX citizen_reports_open_idx ON layer.citizen_reports (service_code, status, requested_at DESC);

-- What only staff and the reporter may see.
CREATE TABLE reports.private (
    report_id         bigint PRIMARY KEY REFERENCES layer.citizen_reports (id) ON DELETE CASCADE,
    first_name        text NOT NULL DEFAULT '',
    last_name         text NOT NULL DEFAULT '',
    email             text NOT NULL DEFAULT '',
    phone             text NOT NULL DEFAULT '',
    device_id         text NOT NULL DEFAULT '',
    account_id        bigint,
    api_key_id        bigint,
    attributes        jsonb NOT NULL DEFAULT '{}',
    original_text     text NOT NULL DEFAULT '',  -- the text as filed, kept when moderation hides it
    text_hidden       boolean NOT NULL DEFAULT false,
    follow_hash       bytea NOT NULL UNIQUE,      -- SHA-256 of the reporter's private follow link secret
    token             text NOT NULL UNIQUE,       -- Open311 token
    expected_at       timestamptz
);

CREATE TABLE reports.history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   bigint NOT NULL REFERENCES layer.citizen_reports (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    status      text NOT NULL,
    comment     text NOT NULL DEFAULT '',
    actor       text NOT NULL DEFAULT ''
);
CREATE INDEX history_report_idx ON reports.history (report_id, at);

-- Residents who said "this is my problem too": one row per report and supporter.
CREATE TABLE reports.supporters (
    report_id   bigint NOT NULL REFERENCES layer.citizen_reports (id) ON DELETE CASCADE,
    supporter   text NOT NULL,   -- hash of device id or email
    email       text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (report_id, supporter)
);

CREATE TABLE reports.photos (
    report_id    bigint NOT NULL REFERENCES layer.citizen_reports (id) ON DELETE CASCADE,
    n            smallint NOT NULL CHECK (n BETWEEN 1 AND 3),
    content_type text NOT NULL,
    data         bytea NOT NULL,
    thumb        bytea NOT NULL,
    width        integer NOT NULL,
    height       integer NOT NULL,
    exif_lon     double precision,
    exif_lat     double precision,
    hidden       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (report_id, n)
);

-- Messages to reporters, queued in the same transaction as the change they announce, so none is
-- lost when mail is down; a sender marks them sent.
CREATE TABLE reports.outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   bigint REFERENCES layer.citizen_reports (id) ON DELETE CASCADE,
    to_addr     text NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unsent_idx ON reports.outbox (created_at) WHERE sent_at IS NULL;

-- Proof-of-work challenges already spent (replay protection for anonymous submissions).
CREATE TABLE reports.spent_challenges (
    challenge   text PRIMARY KEY,
    spent_at    timestamptz NOT NULL DEFAULT now()
);

-- Server secrets shared by every geoportal process on this database (proof-of-work signing key).
CREATE TABLE reports.secrets (
    name   text PRIMARY KEY,
    value  bytea NOT NULL
);
-- gen_random_uuid is cryptographically random (pgcrypto is not needed for it).
INSERT INTO reports.secrets (name, value)
VALUES ('pow', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- Reporters banned by moderators (hash of device id or email).
CREATE TABLE reports.banned (
    reporter    text PRIMARY KEY,
    reason      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);

INSERT INTO reports.departments (code, name_kk, name_ru, name_en) VALUES
  ('housing', 'Тұрғын үй-коммуналдық шаруашылық бөлімі', 'Отдел ЖКХ', 'Housing and utilities department'),
  ('roads', 'Жолаушылар көлігі және автомобиль жолдары бөлімі', 'Отдел пассажирского транспорта и автодорог', 'Transport and roads department'),
  ('social', 'Әлеуметтік қорғау бөлімі', 'Отдел социальной защиты', 'Social protection department'),
  ('safety', 'Қоғамдық қауіпсіздік бөлімі', 'Отдел общественной безопасности', 'Public safety department'),
  ('environment', 'Табиғи ресурстар және табиғатты пайдалануды реттеу бөлімі', 'Отдел природных ресурсов и благоустройства', 'Environment and landscaping department');

INSERT INTO reports.services (code, department, name_kk, name_ru, name_en, description_kk, description_ru, description_en, keywords, group_name, attributes, sla_days, sort_order) VALUES
  ('street_light', 'housing', 'Көше шамы жанбайды', 'Не горит уличный фонарь', 'Broken street light',
   'Жанбайтын немесе жыпылықтайтын шам', 'Фонарь не горит или мигает', 'A light that is out or flickering',
   'light,lamp,фонарь,шам', 'utilities',
   '[{"code": "pole_number", "datatype": "string", "required": false, "order": 1, "description": {"kk": "Тірек нөмірі", "ru": "Номер опоры", "en": "Pole number"}},
     {"code": "state", "datatype": "singlevaluelist", "required": true, "order": 2, "description": {"kk": "Шам", "ru": "Фонарь", "en": "The light"},
      "values": [{"key": "off", "name": {"kk": "Жанбайды", "ru": "Не горит", "en": "Off"}}, {"key": "flicker", "name": {"kk": "Жыпылықтайды", "ru": "Мигает", "en": "Flickering"}}, {"key": "day", "name": {"kk": "Күндіз жанады", "ru": "Горит днём", "en": "On in daytime"}}]}]',
   5, 1),
  ('missing_ramp', 'social', 'Пандус жоқ немесе бұзылған', 'Нет пандуса или он неисправен', 'Missing or broken ramp',
   'Мүмкіндігі шектеулі адамдарға кедергі', 'Препятствие для маломобильных граждан', 'A barrier for people with limited mobility',
   'ramp,пандус,accessibility', 'barrier_free',
   '[{"code": "building", "datatype": "string", "required": false, "order": 1, "description": {"kk": "Ғимарат", "ru": "Здание", "en": "Building"}}]',
   20, 2),
  ('pothole', 'roads', 'Жолдағы шұңқыр', 'Яма на дороге', 'Pothole',
   'Жол жабынының бұзылуы', 'Повреждение дорожного покрытия', 'Damaged road surface',
   'pothole,road,яма,дорога,жол', 'roads',
   '[{"code": "size", "datatype": "singlevaluelist", "required": false, "order": 1, "description": {"kk": "Өлшемі", "ru": "Размер", "en": "Size"},
      "values": [{"key": "small", "name": {"kk": "Кішкентай", "ru": "Маленькая", "en": "Small"}}, {"key": "large", "name": {"kk": "Үлкен", "ru": "Большая", "en": "Large"}}]}]',
   14, 3),
  ('overflowing_bin', 'environment', 'Қоқыс жәшігі толып кетті', 'Переполнен мусорный контейнер', 'Overflowing bin',
   'Қоқыс уақытында шығарылмады', 'Мусор не вывезен вовремя', 'Waste not collected on time',
   'bin,waste,мусор,қоқыс', 'environment', '[]', 3, 4),
  ('damaged_playground', 'housing', 'Ойын алаңы бұзылған', 'Повреждена детская площадка', 'Damaged playground',
   'Қауіпті немесе сынған жабдық', 'Опасное или сломанное оборудование', 'Dangerous or broken equipment',
   'playground,площадка,алаң', 'social', '[]', 10, 5),
  ('camera_out_of_order', 'safety', 'Камера істемейді', 'Камера не работает', 'Camera out of order',
   'Бейнебақылау камерасы зақымдалған немесе өшірілген', 'Камера видеонаблюдения повреждена или отключена', 'A surveillance camera is damaged or off',
   'camera,камера', 'safety',
   '[{"code": "camera_id", "datatype": "number", "required": false, "order": 1, "description": {"kk": "Камера нөмірі", "ru": "Номер камеры", "en": "Camera number"}}]',
   7, 6),
  ('bus_off_schedule', 'roads', 'Автобус кестеден тыс', 'Автобус не по расписанию', 'Bus off schedule',
   'Автобус кешікті немесе келмеді', 'Автобус опоздал или не пришёл', 'A bus came late or not at all',
   'bus,автобус', 'transport',
   '[{"code": "route", "datatype": "string", "required": true, "order": 1, "description": {"kk": "Бағыт нөмірі", "ru": "Номер маршрута", "en": "Route number"}},
     {"code": "seen_at", "datatype": "datetime", "required": false, "order": 2, "description": {"kk": "Уақыты", "ru": "Время", "en": "Time"}}]',
   5, 7);
