#!/usr/bin/env bash
# Import benchmark: our `geoportal import` against `ogr2ogr -f PostgreSQL` (COPY mode) on the
# same shapefiles and the same database. Median of RUNS wall times, rows/s, peak RSS.
#
# Usage: DATABASE_URL=postgres://… scripts/bench_import.sh FILE.shp…
#   (the database is migrated by the first import; use a scratch database, not production)
#        scripts/bench_import.sh --make-data DIR   writes DIR/buildings.shp (the 150,000 polygons
#   of `go run ./bench/gencity -layers buildings`) and DIR/points.shp (1,000,000 points with 4 attributes)
# Env: RUNS (default 3), GEOPORTAL (default bin/geoportal)
# The machine may be shared: compare the two tools within one run (the ratio column), not across runs.
set -euo pipefail
if [[ ${1:-} == --make-data ]]; then
  dir=${2:?--make-data DIR}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd) # go -C runs in the repository root
  go -C "$(dirname "$0")/.." run ./bench/gencity -out "$dir/city" -layers buildings
  ogr2ogr -f "ESRI Shapefile" -lco ENCODING=UTF-8 "$dir/buildings.shp" "$dir/city/buildings.geojson"
  python3 - "$dir/points.csv" <<'PY'
import csv, random, sys
random.seed(7)
streets = ['Абай даңғылы', 'Әбілқайыр хан даңғылы', 'Санкибай батыр даңғылы', 'Бейбітшілік көшесі',
           'Қобыланды батыр көшесі', 'Құрманғазы көшесі', 'Өтеген батыр көшесі', 'Шернияз көшесі',
           'Ағайынды Жұбановтар көшесі', 'Тұрғанбаев көшесі']
kinds = ['дәріхана', 'мектеп', 'аялдама', 'дүкен', 'шам', 'ағаш']
with open(sys.argv[1], 'w', newline='') as f:
    w = csv.writer(f)
    w.writerow(['lon', 'lat', 'street', 'kind', 'house', 'height'])
    for _ in range(1000000):
        w.writerow(['%.7f' % random.uniform(56.95, 57.35), '%.7f' % random.uniform(50.2, 50.36),
                    random.choice(streets), random.choice(kinds), random.randint(1, 250), '%.2f' % random.uniform(2, 40)])
PY
  ogr2ogr -f "ESRI Shapefile" -lco ENCODING=UTF-8 -a_srs EPSG:4326 -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat \
    -oo AUTODETECT_TYPE=YES "$dir/points.shp" "$dir/points.csv"
  rm -f "$dir/points.csv"
  exit 0
fi
RUNS=${RUNS:-3}
BIN=${GEOPORTAL:-bin/geoportal}
: "${DATABASE_URL:?set DATABASE_URL to a scratch database}"
export PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL")
# GDAL wants libpq keywords, not a URL.
PGCONN=$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print("host=%s port=%s dbname=%s user=%s password=%s" % (p.hostname, p.port or 5432, p.path[1:], u.unquote(p.username or ""), u.unquote(p.password or "")))' "$DATABASE_URL")
"${PSQL[@]}" -c "CREATE SCHEMA IF NOT EXISTS bench" >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run NAME ROWS CMD… : prints wall seconds and peak RSS (MiB) of one run
measure() {
  /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out" "$tmp/time" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tmp/time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tmp/time")
  echo "$wall $rss"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-16s %-8s %9s %8s %10s %9s  %s\n' file tool rows median_s rows_per_s peak_MiB runs_s
declare -A meds
for f in "$@"; do
  base=$(basename "$f" .shp); slug="bench_${base}"
  rows=$(ogrinfo -ro -so -al "$f" | awk -F': ' '/Feature Count/ {print $2}')
  nlt=$(ogrinfo -ro -so -al "$f" | awk -F': ' '/^Geometry/ {print toupper($2)}' | tr -d ' ')
  for tool in geoportal ogr2ogr; do
    walls=(); rsss=()
    for i in $(seq "$RUNS"); do
      if [[ $tool == geoportal ]]; then
        "${PSQL[@]}" -c "SELECT geoportal.drop_layer('$slug') WHERE EXISTS (SELECT 1 FROM geoportal.layers WHERE slug = '$slug')" >/dev/null 2>&1 || true
        read -r w r < <(measure "$BIN" import --quiet --layer "$slug" "$f")
      else
        "${PSQL[@]}" -c "DROP TABLE IF EXISTS bench.$base" >/dev/null
        read -r w r < <(measure ogr2ogr --config PG_USE_COPY YES -f PostgreSQL "PG:$PGCONN" "$f" \
          -nln "bench.$base" -nlt "PROMOTE_TO_MULTI" -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST \
          -lco PRECISION=NO -lco OVERWRITE=YES -gt 65536)
      fi
      walls+=("$w"); rsss+=("$r")
    done
    med=$(printf '%s\n' "${walls[@]}" | median)
    peak=$(printf '%s\n' "${rsss[@]}" | sort -n | tail -1)
    printf '%-16s %-8s %9s %8s %10.0f %9s  %s\n' "$base" "$tool" "$rows" "$med" "$(awk -v r="$rows" -v s="$med" 'BEGIN{print r/s}')" "$peak" "${walls[*]}"
    meds[$tool]=$med
  done
  printf '%-16s ratio geoportal/ogr2ogr (median wall time): %s\n' "$base" "$(awk -v a="${meds[geoportal]}" -v b="${meds[ogr2ogr]}" 'BEGIN{printf "%.2f", a/b}')"
done
