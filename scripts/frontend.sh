#!/usr/bin/env bash
# Installs the front-end's npm packages when missing and builds the bundle into web/dist,
# which the Go binary embeds (web/static.go). Rebuilds only when a source file is newer than
# the bundle. Nothing is fetched at run time: MapLibre GL JS comes from npm and is bundled.
set -euo pipefail
cd "$(dirname "$0")/../web/frontend"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
stamp=../dist/index.html
if [ ! -f "$stamp" ] || [ ! -f ../dist/planner.html ] || [ ! -f ../dist/.vite/manifest.json ] ||
  [ -n "$(find src index.html planner.html package.json package-lock.json vite.config.* -newer "$stamp" 2>/dev/null | head -1)" ]; then
  rm -rf ../dist/assets ../dist/index.html ../dist/planner.html ../dist/.vite
  npx vite build --logLevel warn
fi
touch ../dist/.keep
