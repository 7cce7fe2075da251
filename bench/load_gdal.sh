#!/usr/bin/env bash
# bench/load_gdal.sh CITY_DIR — the reference import: every CITY_DIR/*.geojson (bench/gencity)
# loaded by ogr2ogr in COPY mode into its own table of schema $SCHEMA, the GeoJSON id as primary
# key "id", the geometry in column "geom" (EPSG:4326) with a GiST index. Prints rows and seconds
# per file, then the time of VACUUM ANALYZE.
#
# Usage: PGDATABASE=scratch bench/load_gdal.sh /tmp/city
#   The connection comes from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
#   SCHEMA (default bench) is dropped and made anew: use a scratch database.
set -euo pipefail
die() { echo "bench/load_gdal.sh: $*" >&2; exit 2; }
[[ $# -eq 1 ]] || die "usage: bench/load_gdal.sh CITY_DIR"
CITY=$1
SCHEMA=${SCHEMA:-bench}
: "${PGDATABASE:?set PGDATABASE (and PGHOST, PGPORT, PGUSER, PGPASSWORD as needed) to a scratch database}"
[[ $SCHEMA =~ ^[a-z_][a-z0-9_]*$ ]] || die "SCHEMA must be a plain lower-case name: $SCHEMA"
command -v ogr2ogr >/dev/null || die "ogr2ogr not found (scripts/deps.sh installs gdal-bin)"
shopt -s nullglob
files=("$CITY"/*.geojson)
((${#files[@]} > 0)) || die "no .geojson files in $CITY (go run ./bench/gencity -out $CITY)"

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS postgis" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" -c "CREATE SCHEMA $SCHEMA"

seconds() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}'; }
printf '%-16s %8s %-18s %9s\n' table rows geometry seconds
start=$(date +%s.%N)
for f in "${files[@]}"; do
  table=$(basename "$f" .geojson)
  [[ $table =~ ^[a-z_][a-z0-9_]*$ ]] || die "$f: the file name is not a plain table name"
  t=$(date +%s.%N)
  ogr2ogr --config PG_USE_COPY YES -f PostgreSQL "PG:dbname=$PGDATABASE" "$f" \
    -nln "$SCHEMA.$table" -a_srs EPSG:4326 -lco GEOMETRY_NAME=geom -lco FID=id \
    -lco SPATIAL_INDEX=GIST -lco PRECISION=NO -gt 65536
  took=$(seconds "$t")
  read -r rows geometry < <("${PSQL[@]}" -At -F ' ' -c "SELECT (SELECT count(*) FROM $SCHEMA.$table),
    (SELECT type || '/' || srid FROM geometry_columns WHERE f_table_schema = '$SCHEMA' AND f_table_name = '$table')")
  printf '%-16s %8s %-18s %9s\n' "$table" "$rows" "$geometry" "$took"
done
loaded=$(seconds "$start")
# What the benchmarks count on: every table keyed by id, with a GiST index on geom.
bad=$("${PSQL[@]}" -At -c "SELECT string_agg(c.relname, ' ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = '$SCHEMA' AND c.relkind = 'r' AND (
    NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = c.oid AND i.indisprimary AND a.attname = 'id')
    OR NOT EXISTS (SELECT 1 FROM pg_indexes x WHERE x.schemaname = n.nspname AND x.tablename = c.relname
      AND x.indexdef LIKE '%USING gist (geom)%'))")
[[ -z $bad ]] || die "tables without a primary key id or a GiST index on geom: $bad"
t=$(date +%s.%N)
for f in "${files[@]}"; do "${PSQL[@]}" -c "VACUUM ANALYZE $SCHEMA.$(basename "$f" .geojson)"; done
echo "ogr2ogr ${loaded}s in all, VACUUM ANALYZE $(seconds "$t")s"
