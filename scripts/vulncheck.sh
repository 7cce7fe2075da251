#!/usr/bin/env bash
# govulncheck over the whole module, offline. vuln.go.dev cannot be reached from this machine or
# CI, but the Go module proxy serves golang.org/x/vulndb, the repository the database is published
# from: its data/osv folder holds every Go vulnerability entry as an OSV JSON file, and govulncheck
# reads such a folder as a local database (-db file://...). Pinned: the scanner's version and the
# database snapshot (bump VULNDB_VERSION to the proxy's newest, `go list -m -versions` cannot list
# pseudo-versions: use `go mod download -json golang.org/x/vulndb@latest`). Exits non-zero when
# govulncheck finds a vulnerability the code can reach.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

goversion=$(go env GOVERSION)
tools=$root/bin/tools/$goversion
if [ ! -x "$tools/govulncheck" ] || ! "$tools/govulncheck" -version 2>/dev/null | grep -q "govulncheck@$GOVULNCHECK_VERSION"; then
  GOBIN=$tools go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
fi

# Outside the module, so that go.mod is not touched.
dbdir=$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
osv=$dbdir/data/osv
if [ ! -d "$osv" ]; then
  echo "vulncheck: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv folder ($dbdir)" >&2
  exit 1
fi
echo "vulncheck: $goversion, govulncheck $GOVULNCHECK_VERSION, database golang.org/x/vulndb@$VULNDB_VERSION ($(ls "$osv" | wc -l) entries)"
"$tools/govulncheck" -db "file://$osv" ./...
