#!/usr/bin/env bash
# Browser tests of the web map: a fresh database on the local cluster, the demo city, a server on
# a free loopback port, then node's test runner driving Debian's Chromium (playwright-core) with
# axe-core. Screenshots and render timings go to test-output/. Fails (never skips) when
# Chromium or anything else is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "browser-tests: $chromium not found; scripts/deps.sh installs Debian's chromium" >&2
  exit 1
fi
NAME=browser
. scripts/served-demo.sh
demo_build
demo_database
# A department_staff user for the report workflow test (web/frontend/tests/report.test.mjs).
staff_email=staff.social@example.kz
staff_password="browser test staff $$ $(date +%s)"
printf '%s\n' "$staff_password" | "$bin" user add --email "$staff_email" --name "Social staff" \
  --role department_staff --department social --password-stdin >>"$log" 2>&1
# Live vehicles (web/frontend/tests/transit.test.mjs): a dispatcher, two buses, an all-day timetable.
. scripts/browser-fixtures-transit.sh
# A dispatcher for the utilities test: draws an outage (web/frontend/tests/modules.test.mjs).
dispatch_email=dispatch.utilities@example.kz
dispatch_password="browser test dispatcher $$ $(date +%s)"
printf '%s\n' "$dispatch_password" | "$bin" user add --email "$dispatch_email" --name "Utilities dispatcher" \
  --role dispatcher --password-stdin >>"$log" 2>&1
# Two residents (citizen accounts) for the best-yard contest test (web/frontend/tests/yards.test.mjs).
resident_password="browser test resident $$ $(date +%s)"
for who in resident.one resident.two; do
  printf '%s\n' "$resident_password" | "$bin" user add --email "$who@example.kz" --name "Resident $who" \
    --role citizen --password-stdin >>"$log" 2>&1
done
# Safe City staff (department safe_city, migration 0190) moderate private cameras that two
# camera owners (citizen accounts) register (web/frontend/tests/cameras.test.mjs).
safecity_email=operator.safecity@example.kz
safecity_password="browser test safe city $$ $(date +%s)"
printf '%s\n' "$safecity_password" | "$bin" user add --email "$safecity_email" --name "Safe City operator" \
  --role department_staff --department safe_city --password-stdin >>"$log" 2>&1
for who in owner.phone owner.desk; do
  printf '%s\n' "$resident_password" | "$bin" user add --email "$who@example.kz" --name "Camera owner $who" \
    --role citizen --password-stdin >>"$log" 2>&1
done
# An administrator for the staff pages on a phone (web/frontend/tests/staff.test.mjs).
admin_email=admin.staff@example.kz
admin_password="browser test admin $$ $(date +%s)"
printf '%s\n' "$admin_password" | "$bin" user add --email "$admin_email" --name "Administrator" \
  --role admin --password-stdin >>"$log" 2>&1
# A planner for the coverage page: saves and compares scenarios (web/frontend/tests/planner.test.mjs).
planner_email=planner@example.kz
planner_password="browser test planner $$ $(date +%s)"
printf '%s\n' "$planner_password" | "$bin" user add --email "$planner_email" --name "City planner" \
  --role planner --password-stdin >>"$log" 2>&1
# A GIS staff member for the upload page: imports shapefiles (web/frontend/tests/import.test.mjs).
gis_email=gis.staff@example.kz
gis_password="browser test gis staff $$ $(date +%s)"
printf '%s\n' "$gis_password" | "$bin" user add --email "$gis_email" --name "GIS staff" \
  --role gis_staff --password-stdin >>"$log" 2>&1
# A wrongly imported layer for the layer management test to retitle, hide and delete
# (web/frontend/tests/workspace.test.mjs).
trash="$(mktemp -d)/staff_trash.geojson"
printf '%s\n' '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[57.17,50.28]}},{"type":"Feature","properties":{"name":"b"},"geometry":{"type":"Point","coordinates":[57.18,50.29]}},{"type":"Feature","properties":{"name":"c"},"geometry":{"type":"Point","coordinates":[57.19,50.27]}}]}' >"$trash"
"$bin" import --quiet --layer staff_trash --title-kk "Қате импорт" --title-ru "Ошибочный импорт" --title-en "Wrong import" "$trash" >>"$log" 2>&1
# A piece of a city from OpenStreetMap beside the demo (web/frontend/tests/osm.test.mjs).
"$bin" import --quiet testdata/osm/small.osm >>"$log" 2>&1
# Uploads: the import tests send more files within a minute than a person would (the default is
# 10 a minute, bursts of 5): a looser limit, so that their outcome does not hang on timing.
demo_serve -upload-rate 60/30

mkdir -p test-output
cd web/frontend
# GEOPORTAL_BIN: web/frontend/tests/city.test.mjs starts a second server, with the city configured
# by flags, on the same database.
GEOPORTAL_URL="http://127.0.0.1:$port" GEOPORTAL_BIN="$bin" OUT_DIR="$root/test-output" CHROMIUM="$chromium" \
  GEOPORTAL_STAFF_EMAIL="$staff_email" GEOPORTAL_STAFF_PASSWORD="$staff_password" \
  GEOPORTAL_DISPATCH_EMAIL="$dispatch_email" GEOPORTAL_DISPATCH_PASSWORD="$dispatch_password" \
  GEOPORTAL_PLANNER_EMAIL="$planner_email" GEOPORTAL_PLANNER_PASSWORD="$planner_password" \
  GEOPORTAL_GIS_EMAIL="$gis_email" GEOPORTAL_GIS_PASSWORD="$gis_password" \
  GEOPORTAL_ADMIN_EMAIL="$admin_email" GEOPORTAL_ADMIN_PASSWORD="$admin_password" \
  GEOPORTAL_RESIDENT_EMAILS="resident.one@example.kz resident.two@example.kz" GEOPORTAL_RESIDENT_PASSWORD="$resident_password" \
  GEOPORTAL_SAFECITY_EMAIL="$safecity_email" GEOPORTAL_SAFECITY_PASSWORD="$safecity_password" \
  GEOPORTAL_OWNER_EMAILS="owner.phone@example.kz owner.desk@example.kz" \
  node --test --test-concurrency=1 --test-timeout=1800000 ${BROWSER_TESTS:-tests/*.test.mjs} # BROWSER_TESTS: a subset
