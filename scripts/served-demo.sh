# Sourced by scripts/browser-tests.sh and scripts/standards-tests.sh: what both need to test a
# served geoportal. Set NAME (used in the database's name and in messages) before sourcing.
#   demo_build            builds the bundle and a binary of this run's own into $bin
#   demo_database         a fresh database on the local cluster (or GEOPORTAL_TEST_DATABASE_URL's
#                         server) with the demo city; DATABASE_URL points at it; $log is the log
#   demo_serve [FLAGS…]   `geoportal serve` on a free loopback port ($port, $pid), waits until ready
# On exit the server is stopped and the database dropped; on failure the log's tail is printed.

# Several test runs may share one checkout: the bundle is built under a lock and each run keeps
# its own binary (which embeds the bundle just built).
demo_build() {
  mkdir -p bin
  work=$(mktemp -d)
  bin=$work/geoportal
  (
    flock 9
    scripts/frontend.sh
    go build -o "$bin" ./cmd/geoportal
  ) 9>bin/.build.lock
}

demo_database() {
  # A role that may create databases: GEOPORTAL_TEST_DATABASE_URL (as for the Go tests), else the
  # project-local cluster.
  admin=${GEOPORTAL_TEST_DATABASE_URL:-$(env -u DATABASE_URL "$bin" db url)}
  db="geoportal_${NAME}_$$_$(date +%s)"
  url=$(printf '%s' "$admin" | sed -E "s#/[^/?]+(\?|\$)#/$db\1#")
  psql "$admin" -qXc "CREATE DATABASE $db" >/dev/null
  log=$(mktemp)
  pid=""
  trap demo_cleanup EXIT INT TERM
  export DATABASE_URL=$url
  "$bin" migrate >/dev/null
  "$bin" demo >"$log" 2>&1
}

demo_cleanup() {
  status=$?
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  psql "$admin" -qXc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  if [ $status -ne 0 ]; then echo "$NAME-tests: server log:" >&2; tail -40 "$log" >&2; fi
  rm -f "$log"
  rm -rf "$work"
  exit $status
}

demo_serve() {
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  "$bin" serve -addr "127.0.0.1:$port" "$@" >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    if demo_ready; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "$NAME-tests: server exited" >&2; exit 1; fi
    sleep 0.5
  done
  demo_ready || { echo "$NAME-tests: server not ready on port $port" >&2; exit 1; }
}

demo_ready() {
  node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$port/readyz"
}
