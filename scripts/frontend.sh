#!/usr/bin/env bash
# Installs the front-end's npm packages when missing and builds the bundle into web/dist,
# which the Go binary embeds. Rebuilds only when a source file is newer than the bundle.
set -euo pipefail
cd "$(dirname "$0")/../web/frontend"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
stamp=../dist/index.html
if [ ! -f "$stamp" ] || [ -n "$(find src index.html package.json vite.config.* -newer "$stamp" 2>/dev/null | head -1)" ]; then
  npx vite build --logLevel warn
fi
