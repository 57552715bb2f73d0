#!/usr/bin/env bash
# `npm run demo`: start the local world, deploy examples/hello with the bundled action, then redeploy it
# unchanged to show the no-op path. No AWS account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/index.js ] || npm run package
exec bash local/world.sh run -- node scripts/demo.mjs
