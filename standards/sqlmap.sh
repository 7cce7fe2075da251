#!/usr/bin/env bash
# sqlmap (Debian) against the query parameters that reach SQL: the OGC API's CQL2 filter and a
# queryable equality, the search box, and Open311's request filters. Only 127.0.0.1 (the served
# instance), level 2 / risk 1 (no data-changing payloads), one thread, each run under a hard
# timeout. Fails when sqlmap reports an injection point, or when a run ends without sqlmap saying
# that it tested the parameters and found none injectable.
set -euo pipefail
B=${GEOPORTAL_BASE:?}
case $B in http://127.0.0.1:*) ;; *) echo "sqlmap: runs against 127.0.0.1 only, not $B" >&2; exit 1 ;; esac
command -v sqlmap >/dev/null || { echo "sqlmap: not found (Debian sqlmap, scripts/deps.sh)" >&2; exit 1; }
sqlmap --version 2>/dev/null | head -1
out=$(mktemp -d "${STANDARDS_TMP:-/tmp}/sqlmap.XXXXXX"); trap 'rm -rf "$out"' EXIT
fail=0
run() { # name url params
  local name=$1 url=$2 params=$3 log="$out/$1.log"
  local start=$SECONDS
  timeout --kill-after=5 100 sqlmap --batch --level 2 --risk 1 --threads 1 --time-sec 2 --timeout 10 \
    --retries 1 --technique BEUST --flush-session --disable-coloring --output-dir "$out/$name" \
    --ignore-code 400 --skip-waf --answers "follow=N" -u "$url" -p "$params" >"$log" 2>&1 || true
  local types
  types=$({ grep -A60 "identified the following injection point" "$log" || true; } | sed -n 's/^ *Type: //p' | sort -u)
  if [ "$name" = ogc-filter ] && [ "$types" = "boolean-based blind" ] &&
    grep -q "not able to fingerprint the back-end database management system" "$log" &&
    ! grep -q "the back-end DBMS is PostgreSQL" "$log"; then
    # CQL2 is itself a boolean language: "status = 'installed' AND 8177=8177" is a valid filter
    # and "... AND 8177=8178" matches nothing, which sqlmap takes for boolean-blind injection. What
    # tells a real injection is whether its payloads reach SQL: sqlmap then recognises PostgreSQL
    # (CHR(), CONVERT_TO(), version()); here every such payload is a 400 from the CQL2 parser.
    echo "ok $name ($params): CQL2's own AND/=, no SQL reached: sqlmap could not fingerprint any DBMS ($((SECONDS - start)) s)"
  elif grep -q "identified the following injection point" "$log" || grep -qE "parameter '[^']+' is vulnerable" "$log"; then
    echo "sqlmap: FAIL: $name: injectable:" >&2; grep -A12 "identified the following injection point" "$log" >&2 || true
    grep -E "back-end DBMS is [A-Z]|fingerprint" "$log" | grep -v "is not" >&2 || true
    fail=1
  elif grep -q "all tested parameters do not appear to be injectable" "$log"; then
    echo "ok $name ($params): no injection found ($((SECONDS - start)) s)"
  else
    echo "sqlmap: FAIL: $name: sqlmap did not finish its tests; its log ends:" >&2; tail -15 "$log" >&2
    fail=1
  fi
}
run ogc-filter "$B/ogc/collections/cameras/items?filter=status%20%3D%20%27installed%27&limit=5" filter
# (sqlmap stops at the first parameter it calls injectable: the others get their own run.)
run ogc-params "$B/ogc/collections/cameras/items?status=installed&sortby=name&properties=name,status&limit=5" "status,sortby,properties"
run search "$B/api/search?q=%D0%A8%D0%BA%D0%BE%D0%BB%D0%B0&limit=5" "q,lang" # q=Школа, which finds schools
# scripts/standards-tests.sh posts two missing_ramp requests first, so these queries find rows.
run open311 "$B/open311/v2/requests.json?service_code=missing_ramp&status=open&start_date=2024-01-01T00:00:00Z" "service_code,status,start_date"
run open311-id "$B/open311/v2/requests.json?service_request_id=1" "service_request_id"
exit $fail
