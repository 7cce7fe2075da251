# Fixtures of the live-vehicles browser test (web/frontend/tests/transit.test.mjs), sourced by
# scripts/browser-tests.sh after the demo city is loaded ($bin, $log and DATABASE_URL are set).
# A timetable running all day (so that buses run whenever the test runs), a dispatcher, and two
# buses of one route with HTTP device keys: one the test drives along its line, one it puts off
# the line. Exports GEOPORTAL_TRANSIT_* for the test.
case "${BROWSER_TESTS:-all}" in
*transit*|*night*|all)
  "$bin" gtfs demo -first 0s -last 23h45m -headway 30m >>"$log" 2>&1
  GEOPORTAL_TRANSIT_ROUTE=$(psql "$DATABASE_URL" -AtXc \
    "SELECT r.short_name FROM transit.routes r JOIN transit.trips t USING (route_id) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
  GEOPORTAL_TRANSIT_DISPATCH_EMAIL=dispatch@example.kz
  GEOPORTAL_TRANSIT_DISPATCH_PASSWORD="browser test dispatcher $$ $(date +%s)"
  printf '%s\n' "$GEOPORTAL_TRANSIT_DISPATCH_PASSWORD" | "$bin" user add --email "$GEOPORTAL_TRANSIT_DISPATCH_EMAIL" \
    --name "Dispatcher" --role dispatcher --password-stdin >>"$log" 2>&1
  transit_add() { # device plate [flags]: prints "ID KEY"
    "$bin" vehicle add -device "$1" -plate "$2" -route "$GEOPORTAL_TRANSIT_ROUTE" "${@:3}" 2>>"$log" |
      sed -nE 's/^vehicle ([0-9]+) .*\(shown once\): (.+)$/\1 \2/p'
  }
  read -r GEOPORTAL_TRANSIT_BUS_ID GEOPORTAL_TRANSIT_BUS_KEY < <(transit_add browser-bus-1 "101 BUS 04" -low-floor -department "Aktobe bus") || true
  read -r GEOPORTAL_TRANSIT_OFF_ID GEOPORTAL_TRANSIT_OFF_KEY < <(transit_add browser-bus-2 "202 OFF 04") || true
  # A bus of no route for web/frontend/tests/night.test.mjs: it starts reporting while the test
  # watches the layer list's count (its own, so that it does not move the buses above).
  read -r GEOPORTAL_TRANSIT_NIGHT_ID GEOPORTAL_TRANSIT_NIGHT_KEY < <("$bin" vehicle add -device browser-bus-night \
    -plate "303 NGT 04" 2>>"$log" | sed -nE 's/^vehicle ([0-9]+) .*\(shown once\): (.+)$/\1 \2/p') || true
  if [ -z "$GEOPORTAL_TRANSIT_ROUTE" ] || [ -z "$GEOPORTAL_TRANSIT_BUS_KEY" ] || [ -z "$GEOPORTAL_TRANSIT_OFF_KEY" ] ||
    [ -z "$GEOPORTAL_TRANSIT_NIGHT_KEY" ]; then
    echo "browser-tests: transit fixtures failed" >&2
    exit 1
  fi
  export GEOPORTAL_TRANSIT_ROUTE GEOPORTAL_TRANSIT_DISPATCH_EMAIL GEOPORTAL_TRANSIT_DISPATCH_PASSWORD \
    GEOPORTAL_TRANSIT_BUS_ID GEOPORTAL_TRANSIT_BUS_KEY GEOPORTAL_TRANSIT_OFF_ID GEOPORTAL_TRANSIT_OFF_KEY \
    GEOPORTAL_TRANSIT_NIGHT_ID GEOPORTAL_TRANSIT_NIGHT_KEY
  ;;
esac
