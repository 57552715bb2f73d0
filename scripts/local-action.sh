#!/usr/bin/env bash
# `npm run local-action:world`: debug the action from its TypeScript source with @github/local-action, the way
# actions/typescript-action does (`npm run local-action` = `npx @github/local-action . src/main.ts .env`), against
# the local world: moto, a Docker engine and a registry, no AWS account and no bundle.
#
#   npm run local-action:world                  # a fresh world; inputs from .env, else .env.example
#   npm run local-action:world -- my.env        # another env file
#   local/world.sh exec -- npm run local-action:world   # in a world started with `local/world.sh start`
set -euo pipefail
cd "$(dirname "$0")/.."

env_file=${1:-.env}
[[ -f $env_file ]] || env_file=.env.example

# Outside a world, start one for this run (world.sh exports LOCAL_WORLD_DIR and AWS_ENDPOINT_URL into it).
if [[ -z ${LOCAL_WORLD_DIR:-} || -z ${AWS_ENDPOINT_URL:-} ]]; then
  exec bash local/world.sh run -- bash "$0" "$env_file"
fi

# The world starts empty: make the bucket the inputs name, as a real account would already have it.
bucket=$(sed -n 's/^INPUT_BUCKET=//p' "$env_file" | tail -n 1)
if [[ -n $bucket ]]; then
  node --input-type=module -e \
    "const { createBucket } = await import('./local/action-runner.mjs'); await createBucket(process.argv[1])" "$bucket"
fi

# A job summary of this run only: the env file's own GITHUB_STEP_SUMMARY is overridden (dotenv: the last wins).
run_env=$(mktemp)
summary=$(mktemp)
log=$(mktemp)
trap 'rm -f "$run_env" "$summary" "$log"' EXIT
{
  cat "$env_file"
  printf '\nGITHUB_STEP_SUMMARY=%s\n' "$summary"
} >"$run_env"

echo "local-action: running src/main.ts with inputs from $env_file (world: $LOCAL_WORLD_DIR)" >&2
set +e
npx @github/local-action . src/main.ts "$run_env" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo
echo "---- job summary (GITHUB_STEP_SUMMARY) ----"
cat "$summary"
# local-action exits 0 after core.setFailed (it only records the exit code); the action's one failure path,
# setFailed, prints an ::error:: line, so that line is the failure.
if ((rc == 0)) && grep -q '^::error::' "$log"; then
  echo "local-action: the action failed (see the ::error:: line above)" >&2
  rc=1
fi
exit "$rc"
