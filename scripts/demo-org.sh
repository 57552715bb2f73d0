#!/usr/bin/env bash
# `npm run demo:org`: start the local world (two accounts, two regions), build examples/hello once and
# deploy it as a CloudFormation stack set to both accounts in both regions; then run again with the
# same digest, which changes nothing. Prints one line per instance: account, region, stack id,
# status, image URI with digest. No AWS account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/index.js ] || npm run package
exec bash local/world.sh run -- node scripts/demo-org.mjs
