#!/usr/bin/env bash
# promtool (Debian prometheus) checks /metrics: the exposition format parses and every metric
# passes Prometheus's naming and help-text lint. A few requests first, so that the request
# metrics have samples.
set -euo pipefail
B=${GEOPORTAL_BASE:?}
command -v promtool >/dev/null || { echo "promtool: not found (Debian prometheus, scripts/deps.sh)" >&2; exit 1; }
promtool --version | head -1
for p in / /api/layers /ogc/collections /tiles /ogc/no-such-page; do curl -s -o /dev/null --max-time 30 "$B$p"; done
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
code=$(curl -sS --max-time 30 -o "$tmp" -w '%{http_code} %{content_type}' "$B/metrics")
case $code in "200 text/plain; version=0.0.4"*) ;; *) echo "promtool: /metrics answered $code" >&2; exit 1 ;; esac
grep -q '^# TYPE ' "$tmp" || { echo "promtool: /metrics has no metric" >&2; exit 1; }
# promtool prints lint problems and exits non-zero on them (and on a parse error).
out=$(promtool check metrics <"$tmp" 2>&1) || { echo "promtool: check metrics failed:" >&2; echo "$out" >&2; exit 1; }
[ -z "$out" ] || { echo "promtool: $out" >&2; exit 1; }
echo "promtool: $(grep -c '^# TYPE ' "$tmp") metrics pass check metrics"
