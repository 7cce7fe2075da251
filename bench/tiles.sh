#!/usr/bin/env bash
# bench/tiles.sh — the vector tile benchmark of BENCHMARKS.md ("Vector tiles").
#
# Generates the benchmark city (bench/gencity: 150k buildings, 20k streets, 1.5k stops…), imports
# it into a fresh database of the project-local PostgreSQL cluster (bench/load_gdal.sh: ogr2ogr
# into schema bench, then INSERT…SELECT into a layer made with geoportal.create_layer), starts
# `geoportal serve` on it, and runs the load test (bench/load.sh: a cold pass over every tile of
# the city, then a warm pass at 32 clients) against nginx serving the very same tiles as static
# files and against our server, back to back, in ROUNDS rounds (our server restarted, cache
# empty, each round). Traffic goes to 127.0.0.1 only; every pass is bounded in time.
#
# Usage: bench/tiles.sh            (from a clone; needs go, wrk, nginx-light, gdal-bin: scripts/deps.sh)
# Env:   CITY=/tmp/city            generated data (made when missing, at SCALE=1)
#        OUT=/tmp/bench-out-tiles  results (results.tsv, logs, the tile files for nginx)
#        ZOOMS=14-16               zooms of the passes (the anchor figures use 14-16)
#        LAYER=bench_buildings     layer slug the buildings are loaded into
#        SKIP_IMPORT=1             reuse the database of a previous run (IMPORT_ONLY=1: only import)
#        ROUNDS=3                  rounds of back-to-back nginx / geoportal passes
#        PORT=18431 NGINX_PORT=18432
#        BIN=path                  a geoportal binary to use instead of building one
#        SERVE_ARGS="…"            extra flags for geoportal serve (e.g. -tile-memory-mb 0: every
#                                  tile read from PostgreSQL, as before the copies held in memory)
#        KEEP_DB=1                 keep the database afterwards (for SKIP_IMPORT=1 runs); by
#                                  default it is dropped when the script ends
#        WARM_S=15 COLD_MAX_S=300  …and the other settings of bench/load.sh, passed on to it
# Besides tiles/s and latencies it prints the CPU time per tile of the geoportal process and of
# the PostgreSQL backends of the benchmark database (from /proc), which the machine's load
# disturbs much less, and the load average around each round.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CITY=${CITY:-/tmp/city}
SCALE=${SCALE:-1}
OUT=${OUT:-/tmp/bench-out-tiles}
ZOOMS=${ZOOMS:-14-16}
LAYER=${LAYER:-bench_buildings}
PORT=${PORT:-18431}
NGINX_PORT=${NGINX_PORT:-18432}
DBNAME=${DBNAME:-geoportal_bench_tiles}
export OUT ZOOMS

cd "$ROOT"
mkdir -p "$OUT"
log() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }

for c in wrk nginx ogr2ogr psql python3 go curl; do
  command -v "$c" >/dev/null || { echo "bench/tiles.sh: $c not found (scripts/deps.sh installs it)" >&2; exit 2; }
done

if [[ -z ${BIN:-} ]]; then
  BIN=$OUT/geoportal
  log "building geoportal"
  go build -o "$BIN" ./cmd/geoportal
fi
go build -o "$OUT/bin/gencity" ./bench/gencity
go build -o "$OUT/bin/tileurls" ./bench/tileurls
export TILEURLS=$OUT/bin/tileurls # bench/load.sh lists the tiles with it

if [[ ! -f $CITY/buildings.geojson ]]; then
  log "generating the city into $CITY (scale $SCALE)"
  "$OUT/bin/gencity" -out "$CITY" -scale "$SCALE"
fi

# The project-local cluster; libpq's variables point psql and ogr2ogr at it.
ADMIN_URL=$("$BIN" db url)
eval "$(python3 - "$ADMIN_URL" <<'EOF'
import sys, urllib.parse, shlex
u = urllib.parse.urlparse(sys.argv[1])
for k, v in (("PGHOST", u.hostname), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password)):
    print("export %s=%s" % (k, shlex.quote(str(v))))
EOF
)"
DB_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$DBNAME?sslmode=disable"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$DBNAME")

if [[ -z ${SKIP_IMPORT:-} ]]; then
  log "fresh database $DBNAME"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME"
  DATABASE_URL=$DB_URL "$BIN" migrate
  log "importing $CITY with ogr2ogr (schema bench)"
  PGDATABASE=$DBNAME bench/load_gdal.sh "$CITY"
  log "copying the buildings into layer $LAYER"
  t0=$(date +%s.%N)
  "${PSQL[@]}" <<SQL
SELECT geoportal.create_layer('{"slug": "$LAYER", "direction": 0, "geometry_type": "Polygon",
  "title_en": "Buildings (benchmark)", "title_ru": "Здания (тест)", "title_kk": "Ғимараттар (тест)",
  "min_zoom": 12, "max_zoom": 22, "attribution": "Generated benchmark city",
  "attributes": [
    {"name": "name", "type": "text", "title": {"en": "Name", "ru": "Название", "kk": "Атауы"}, "popup": true},
    {"name": "address", "type": "text", "title": {"en": "Address", "ru": "Адрес", "kk": "Мекенжай"}, "popup": true},
    {"name": "use", "type": "text", "title": {"en": "Use", "ru": "Назначение", "kk": "Мақсаты"}, "popup": true},
    {"name": "levels", "type": "integer", "title": {"en": "Floors", "ru": "Этажность", "kk": "Қабат саны"}, "popup": true},
    {"name": "height_m", "type": "double", "title": {"en": "Height, m", "ru": "Высота, м", "kk": "Биіктігі, м"}, "popup": true},
    {"name": "district", "type": "text", "title": {"en": "District", "ru": "Район", "kk": "Аудан"}, "popup": true},
    {"name": "district_kk", "type": "text", "title": {"en": "District (kk)", "ru": "Район (каз.)", "kk": "Аудан"}, "popup": true},
    {"name": "year_built", "type": "integer", "title": {"en": "Built", "ru": "Год постройки", "kk": "Салынған жылы"}, "popup": true},
    {"name": "area_m2", "type": "double", "title": {"en": "Area, m²", "ru": "Площадь, м²", "kk": "Ауданы, м²"}, "popup": true}
  ]}'::jsonb);
INSERT INTO layer.$LAYER (id, geom, name, address, use, levels, height_m, district, district_kk, year_built, area_m2)
SELECT id, geom, name, address, use, levels, height_m, district, district_kk, year_built, area_m2 FROM bench.buildings;
VACUUM ANALYZE layer.$LAYER;
SQL
  log "layer $LAYER: $("${PSQL[@]}" -Atc "SELECT feature_count FROM geoportal.layers WHERE slug = '$LAYER'") features ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s)"
fi

[[ -n ${IMPORT_ONLY:-} ]] && exit 0

SERVER_PID=""
NGINX_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [[ -n $NGINX_PID ]] && kill "$NGINX_PID" 2>/dev/null || true
  if [[ -z ${KEEP_DB:-} ]]; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1 || true
    log "dropped database $DBNAME (KEEP_DB=1 keeps it)"
  fi
}
trap cleanup EXIT

start_server() {
  if curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/"; then
    echo "bench/tiles.sh: something already listens on 127.0.0.1:$PORT (set PORT=…)" >&2; exit 1
  fi
  # shellcheck disable=SC2086 # SERVE_ARGS is a list of flags
  GEOPORTAL_WIALON_ADDR=off DATABASE_URL=$DB_URL "$BIN" serve -addr "127.0.0.1:$PORT" -log-level warn ${SERVE_ARGS:-} \
    >>"$OUT/server.out" 2>>"$OUT/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
    sleep 0.5
  done
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && kill -0 "$SERVER_PID" 2>/dev/null ||
    { echo "geoportal did not start; see $OUT/server.err" >&2; exit 1; }
  sleep 1 # the change listener connects (tiles are cached only while it listens)
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

# The same tiles as static files for nginx: gzip-compressed as we serve them (gzip_static), an
# empty file where we answer 204. Fetched from a server that is then stopped: every measured
# geoportal round starts from an empty tile cache.
log "starting geoportal on 127.0.0.1:$PORT; writing its tiles as files for nginx"
start_server
STATIC=$OUT/static
rm -rf "$STATIC"
"$TILEURLS" -zooms "$ZOOMS" >"$OUT/tiles.list"
python3 - "$PORT" "$LAYER" "$STATIC" "$OUT/tiles.list" <<'PY'
import sys, os, http.client
port, layer, root, listing = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
n = 0
for line in open(listing):
    zxy = line.strip()
    if not zxy:
        continue
    conn.request("GET", "/tiles/%s/%s.mvt" % (layer, zxy), headers={"Accept-Encoding": "gzip"})
    r = conn.getresponse()
    body = r.read()
    path = os.path.join(root, layer, zxy + ".mvt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if r.status == 200:
        with open(path + ".gz", "wb") as f:
            f.write(body)
    elif r.status != 204:
        sys.exit("tile %s: HTTP %d" % (zxy, r.status))
    open(path, "wb").close()
    n += 1
print("wrote %d tiles" % n, file=sys.stderr)
PY
stop_server

NGX=$OUT/nginx
mkdir -p "$NGX/tmp"
cat >"$NGX/nginx.conf" <<CONF
worker_processes 2;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.mapbox-vector-tile mvt; }
  client_body_temp_path $NGX/tmp;
  proxy_temp_path $NGX/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $STATIC;
    gzip_static on;
    location / { }
  }
}
CONF
log "starting nginx on 127.0.0.1:$NGINX_PORT"
nginx -c "$NGX/nginx.conf" -p "$NGX" &
NGINX_PID=$!
sleep 1

# Rounds of back-to-back passes (nginx then geoportal; cold, then warm), each geoportal round on
# a freshly started server: the machine's load changes by the minute, so each ratio compares two
# passes run seconds apart.
ROUNDS=${ROUNDS:-3}
: >"$OUT/rounds.txt"
: >"$OUT/cpu.txt"
# CPU time (clock ticks) of processes, and the PostgreSQL backends serving the benchmark database.
ticks() { local s=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && s=$((s + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$s"; }
backends() { ps -eo pid=,args= | awk -v db="$DBNAME" '$0 ~ "postgres: .* " db " " {print $1}'; }
HZ=$(getconf CLK_TCK)
for r in $(seq 1 "$ROUNDS"); do
  start_server
  curl -s -o /dev/null "http://127.0.0.1:$PORT/tiles/$LAYER/14/0/0.mvt" # open the tile pool's first connection
  log "round $r: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for pass in cold warm; do
    log "round $r: $pass passes"
    PASSES=$pass bench/load.sh nginx "http://127.0.0.1:$NGINX_PORT/$LAYER/{z}/{x}/{y}.mvt" | sed "s/^/$r /" | tee -a "$OUT/rounds.txt"
    b0=$(backends); s0=$(ticks "$SERVER_PID"); p0=$(ticks $b0); n0=$(awk '/geoportal_tiles_served_total/ {s+=$2} END {print s+0}' \
      < <(curl -s "http://127.0.0.1:$PORT/metrics"))
    PASSES=$pass bench/load.sh geoportal "http://127.0.0.1:$PORT/tiles/$LAYER/{z}/{x}/{y}.mvt" | sed "s/^/$r /" | tee -a "$OUT/rounds.txt"
    # Backends that started during the pass count in full; those of before, from their start value.
    b1=$(backends); s1=$(ticks "$SERVER_PID"); p1=$(ticks $b1); n1=$(awk '/geoportal_tiles_served_total/ {s+=$2} END {print s+0}' \
      < <(curl -s "http://127.0.0.1:$PORT/metrics"))
    echo "$r $pass $((n1 - n0)) $((s1 - s0)) $((p1 - p0)) $HZ $(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/cpu.txt"
  done
  curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^geoportal_tile(s)?_' >"$OUT/geoportal.$r.metrics" || true
  stop_server
done

python3 - "$OUT/rounds.txt" <<'PY'
import sys, statistics
res = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 8 and f[3] != "NA":
        res[(f[0], f[1], f[2])] = dict(tps=float(f[3]), p50=float(f[4]), p99=float(f[5]), errors=int(f[6]))
rounds = sorted({k[0] for k in res}, key=int)
print("\n| round | pass | geoportal tiles/s | p50 / p99 ms | nginx tiles/s | p50 / p99 ms | geoportal / nginx | errors |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
ratios = {"cold": [], "warm": []}
for r in rounds:
    for p in ("cold", "warm"):
        g, n = res.get((r, "geoportal", p)), res.get((r, "nginx", p))
        if g and n:
            ratios[p].append(g["tps"] / n["tps"])
            print("| %s | %s | %.0f | %.1f / %.1f | %.0f | %.2f / %.2f | %.3f | %d |" % (r, p, g["tps"], g["p50"], g["p99"],
                  n["tps"], n["p50"], n["p99"], g["tps"] / n["tps"], g["errors"] + n["errors"]))
for p, bar, note in (("cold", 0.07, "; tuned pg_tileserv's cold is 0.035 of nginx"), ("warm", 0.5, "")):
    if ratios[p]:
        print("median %s ratio %.3f (bar %.2f%s)" % (p, statistics.median(ratios[p]), bar, note))
PY
python3 - "$OUT/cpu.txt" <<'PY'
import sys
print("\n| round | pass | tiles answered | geoportal CPU per tile | PostgreSQL CPU per tile | load average after |")
print("|---|---|---:|---:|---:|---:|")
for line in open(sys.argv[1]):
    r, p, n, s, pg, hz, load = line.split()
    n, s, pg, hz = int(n), int(s), int(pg), int(hz)
    if n > 0:
        print("| %s | %s | %d | %.0f µs | %.0f µs | %s |" % (r, p, n, 1e6 * s / hz / n, 1e6 * pg / hz / n, load))
PY
log "results in $OUT/results.tsv"
