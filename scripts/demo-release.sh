#!/usr/bin/env bash
# `npm run demo:release`: start the local world (two accounts, two regions), build examples/hello once
# and deploy it to a staging stack in account A, then promote that digest, without building, to
# production stacks in both regions of account B. Prints one line per stack (region, account, stack,
# digest) and fails unless every digest is the same. No AWS account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/index.js ] || npm run package
exec bash local/world.sh run -- node scripts/demo-release.mjs
