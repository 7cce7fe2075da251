#!/usr/bin/env bash
# Other people's clients and validators against a served geoportal: a fresh database on the local
# cluster, the demo city, a server on a free loopback port, then every check in standards/
# (standards/*.sh run by bash, standards/*.py by python3, standards/*.test.mjs by node --test),
# each given the base URL in GEOPORTAL_BASE and bounded in time. A missing tool fails its check
# (scripts/deps.sh installs the Debian ones; standards/package.json lists the npm ones, installed
# here). STANDARDS_TESTS=standards/x.sh runs a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The npm packages, installed when missing or when the lock file changed. None downloads a browser:
# playwright-core drives Debian's Chromium.
(
  flock 9
  cd standards
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  fi
) 9>standards/.install.lock
NAME=standards
. scripts/served-demo.sh
demo_build
demo_database
GEOPORTAL_WIALON_ADDR=off demo_serve

# Open311 requests for sqlmap to look at (standards/sqlmap.sh): posted through the API with a key of
# an integrator's account, as a partner system would.
printf 'standards integrator %s %s\n' $$ "$(date +%s)" | "$bin" user add --email integrator@example.kz \
  --name "Standards integrator" --role citizen --password-stdin >>"$log" 2>&1
key=$("$bin" user key add --email integrator@example.kz --scope open311 --name standards 2>>"$log" | grep -oE 'gpk_[A-Za-z0-9_-]+')
for at in "50.283 57.167" "50.29 57.18"; do
  read -r lat lon <<<"$at"
  curl -fsS --max-time 30 -o /dev/null -X POST "http://127.0.0.1:$port/open311/v2/requests.json" \
    --data-urlencode "api_key=$key" -d service_code=missing_ramp -d lat="$lat" -d long="$lon" \
    --data-urlencode "description=No ramp at the entrance (standards check fixture)"
done

export GEOPORTAL_BASE="http://127.0.0.1:$port" CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export STANDARDS_TMP=$work
passed=0
failed=()
for check in ${STANDARDS_TESTS:-standards/*.sh standards/*.py standards/*.test.mjs}; do
  echo "== $check"
  case $check in
    *.sh) cmd=(bash "$check") ;;
    *.py) cmd=(/usr/bin/python3 "$check") ;; # Debian's Python, which has python3-owslib
    *.mjs) cmd=(node --test --test-concurrency=1 "$check") ;;
    *) echo "standards-tests: no runner for $check" >&2; exit 1 ;;
  esac
  # sqlmap bounds each of its runs itself (standards/sqlmap.sh); every other check gets 5 minutes.
  limit=300
  case $check in *sqlmap*) limit=420 ;; esac
  if (cd "$root" && timeout --kill-after=10 "$limit" "${cmd[@]}"); then
    passed=$((passed + 1))
  else
    echo "standards-tests: FAILED $check" >&2
    failed+=("$check")
  fi
done
echo "standards: ${passed} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
