#!/usr/bin/env bash
# local/world.sh - start and stop the "local world": a private Docker engine, an
# ECR-like registry with TLS + basic auth, moto (patched) and a fault proxy in
# front of moto, so `node dist/index.js` can build, push and deploy without AWS.
#
# Usage
#   local/world.sh run -- <cmd> [args...]   start the world, run <cmd> in it, stop it;
#                                           exits with <cmd>'s exit code
#   local/world.sh start                    start the world in the background
#   local/world.sh exec -- <cmd> [args...]  run <cmd> inside the started world
#   local/world.sh env                      print `export K=V` lines of a running world
#   local/world.sh stop                     stop the world started with `start`
#   local/world.sh deps                     install/fetch what the world needs (needs the
#                                           network: run it outside any network namespace)
#
# Everything runs inside a private mount namespace (unshare --mount) in which a
# generated hosts file is bind-mounted over /etc/hosts, mapping the four ECR host
# names to their loopback addresses. The machine's real /etc/hosts is never
# written. Nothing listens on anything but loopback.
#
# Two accounts (A = LOCAL_ACCOUNT_ID, B = LOCAL_ACCOUNT_ID_2) and two regions
# (LOCAL_REGION, LOCAL_REGION_2): one registry per account and region, each a
# docker-registry process of its own (storage, config, htpasswd, log), on port
# 443 of its own loopback address, under its ECR host name, with a certificate
# for that name signed by the world's CA:
#   A, LOCAL_REGION    127.0.0.1  state <W>/registry/, registry.log (as before)
#   A, LOCAL_REGION_2  127.0.0.2  state <W>/registry-<account>-<region>/,
#   B, LOCAL_REGION    127.0.0.3    registry-<account>-<region>.log
#   B, LOCAL_REGION_2  127.0.0.4
# One moto serves both accounts: it takes the account from the request's access
# key (credentials from `sts assume-role` into arn:aws:iam::<B>:role/<any> belong
# to B; the role need not exist), else LOCAL_ACCOUNT_ID.
#
# Environment exported to the command (the contract):
#   AWS_ENDPOINT_URL        http://127.0.0.1:<p>  the fault proxy (forwards to moto)
#   LOCAL_FAULT_PROXY_URL   same as AWS_ENDPOINT_URL; control API under /__faults
#   LOCAL_MOTO_URL          http://127.0.0.1:<p>  moto directly (no faults)
#   AWS_ACCESS_KEY_ID=testing  AWS_SECRET_ACCESS_KEY=testing  (AWS_SESSION_TOKEN unset)
#   AWS_REGION, AWS_DEFAULT_REGION   us-east-1 unless LOCAL_REGION is set
#   AWS_EC2_METADATA_DISABLED=true
#   AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE   empty files in the state dir
#                                           (the host's ~/.aws is not consulted)
#   LOCAL_ACCOUNT_ID        account A: 123456789012 (moto's default; LOCAL_ACCOUNT_ID overrides)
#   LOCAL_ACCOUNT_ID_2      account B: 210987654321 (LOCAL_ACCOUNT_ID_2 overrides)
#   LOCAL_REGION_2          the second region: us-west-2 (LOCAL_REGION_2 overrides)
#   LOCAL_REGISTRY_HOST     A's registry in AWS_REGION: <account>.dkr.ecr.<region>.amazonaws.com
#                           (-> 127.0.0.1:443)
#   LOCAL_REGISTRY_URL      https://<LOCAL_REGISTRY_HOST>
#   LOCAL_REGISTRY_CA       PEM of the CA that signed every registry's certificate
#   LOCAL_REGISTRY_PASSWORD <account>-auth-token (user AWS), what ECR's token decodes to
#   LOCAL_REGISTRY_PASSWORD_2  the same for account B (its two registries)
#   LOCAL_REGISTRIES        JSON array, one object per registry, A/region 1 first, then
#                           A/region 2, B/region 1, B/region 2:
#                           {"account","region","host","address","url","password","log"}
#                           (log: that registry's log file)
#   NODE_EXTRA_CA_CERTS     LOCAL_REGISTRY_CA (+ a previously set bundle), so Node
#                           trusts the registry
#   DOCKER_HOST             unix://<state>/docker.sock (or the reused engine's host)
#   DOCKER_CONFIG           <state>/docker-config (docker login writes here)
#   LOCAL_WORLD_DIR         the state dir (logs: *.log, env: env.sh)
#   LOCAL_WORLD_ENGINE      the engine the world runs (legacy, buildkit, containerd, reused)
# Inherited AWS_ENDPOINT_URL_<SERVICE>, AWS_PROFILE, AWS_SESSION_TOKEN and
# AWS_IGNORE_CONFIGURED_ENDPOINT_URLS are unset.
#
# Knobs (read from the caller's environment)
#   LOCAL_WORLD_DIR    state dir to use (created if missing; kept, minus the bulky
#                      docker/registry data, after stop). Default: a mktemp dir,
#                      removed after stop.
#   LOCAL_REGION       AWS region (default us-east-1)
#   LOCAL_REGION_2     the second region (default us-west-2)
#   LOCAL_ACCOUNT_ID   account A, moto's default account (default 123456789012; moto is started
#                      without MOTO_ACCOUNT_ID, which would pin every request to one account)
#   LOCAL_ACCOUNT_ID_2 account B (default 210987654321)
#   LOCAL_WORLD_DOCKER auto (default) | own | reuse. auto reuses an engine that
#                      already answers `docker info` AND can log in to our registry
#                      under its host name (which, inside our namespace, only an
#                      engine that sees our /etc/hosts can); otherwise starts its own.
#   LOCAL_WORLD_KEEP=1 keep the whole state dir after stop (debugging)
#   LOCAL_WORLD_PYTHON python interpreter for moto (default python3)
#   LOCAL_WORLD_TIMEOUT seconds to wait for each part to become ready (default 30)
#   LOCAL_WORLD_ENGINE legacy (default) | buildkit | containerd: which engine the world starts
#                      when it starts its own (see "engines" below); exported to the command
#   LOCAL_WORLD_ENGINE_CACHE where the Debian 13 engine is unpacked (default
#                      ${XDG_CACHE_HOME:-$HOME/.cache}/oci-stack-deploy/engines)
#
# Engines
#   legacy      Debian 12's dockerd 20.10 on PATH, vfs storage; the CLI has no buildx plugin,
#               so `docker build` is the legacy builder.
#   buildkit    Debian 13's dockerd 26.1.5 + containerd 1.7.24 and the docker-buildx 0.13.1 CLI
#               plugin (listed in the world's DOCKER_CONFIG as cliPluginsExtraDirs), classic
#               image store on vfs: `docker build` is BuildKit with the `docker` driver.
#               Debian 12's runc stays (Debian 13's needs glibc 2.38).
#   containerd  the same binaries with the containerd image store
#               ("features": {"containerd-snapshotter": true}, "storage-driver": "native").
#   The Debian 13 packages are fetched once, without touching the machine's apt sources: a
#   private source list (the Debian mirror this machine already uses, suite trixie), private
#   lists and cache dirs, `apt-get download`, `dpkg -x` into LOCAL_WORLD_ENGINE_CACHE.
#   `deps` (and `run`/`start` when the cache is missing) does this; inside a network namespace
#   it cannot, so run `local/world.sh deps` first (.ci/run does).
#
# Logs: <state>/dockerd.log, registry.log (and registry-<account>-<region>.log),
# moto.log, fault-proxy.log, world.log (start mode). On a failed start the tail of
# the failing part's log is printed.
#
# This file holds the CLI, the contract above and the settings; the parts are sourced from
# local/world/: deps.sh (packages, Debian 13's engine), processes.sh (waiting, probes, stopping),
# registries.sh (hosts file, TLS, the four registries), aws.sh (moto, the fault proxy),
# engine.sh (reused or own dockerd), environment.sh (the contract's env.sh), lifecycle.sh
# (start_world, stop_world, the watchdog) and modes.sh (run, start, exec, env, stop).

# shellcheck source-path=SCRIPTDIR
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
HERE="$(dirname "$SELF")"
POINTER="${TMPDIR:-/tmp}/local-world.current"
REGION="${LOCAL_REGION:-us-east-1}"
ENGINE="${LOCAL_WORLD_ENGINE:-legacy}"
ENGINE_CACHE="${LOCAL_WORLD_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oci-stack-deploy/engines}"
# The Debian 13 engine: package, upstream version the world expects.
TRIXIE_PACKAGES=(docker.io containerd docker-buildx)
TRIXIE_VERSIONS=(26.1.5 1.7.24 0.13.1)
TRIXIE_ROOT="$ENGINE_CACHE/trixie-amd64"
ACCOUNT="${LOCAL_ACCOUNT_ID:-123456789012}"
ACCOUNT2="${LOCAL_ACCOUNT_ID_2:-210987654321}"
REGION2="${LOCAL_REGION_2:-us-west-2}"
REG_HOST="${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com"
# The registries, by index: account, region, loopback address. Index 0 (A, region 1) is the
# LOCAL_REGISTRY_* one and keeps the state names it always had (registry/, registry.log).
REG_ACCOUNTS=("$ACCOUNT" "$ACCOUNT" "$ACCOUNT2" "$ACCOUNT2")
REG_REGIONS=("$REGION" "$REGION2" "$REGION" "$REGION2")
REG_ADDRS=(127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4)
# Where the registries send their push notifications (moto_launcher.py mirrors them into ECR).
ECR_MIRROR=127.0.0.2:5080
READY_TIMEOUT="${LOCAL_WORLD_TIMEOUT:-30}"
PY="${LOCAL_WORLD_PYTHON:-python3}"

say() { printf 'local-world: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }

usage() {
  sed -n '2,15p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The parts, one file each in local/world/ (only functions: sourcing them starts nothing).
# shellcheck source=world/deps.sh
source "$HERE/world/deps.sh"
# shellcheck source=world/processes.sh
source "$HERE/world/processes.sh"
# shellcheck source=world/registries.sh
source "$HERE/world/registries.sh"
# shellcheck source=world/aws.sh
source "$HERE/world/aws.sh"
# shellcheck source=world/engine.sh
source "$HERE/world/engine.sh"
# shellcheck source=world/environment.sh
source "$HERE/world/environment.sh"
# shellcheck source=world/lifecycle.sh
source "$HERE/world/lifecycle.sh"
# shellcheck source=world/modes.sh
source "$HERE/world/modes.sh"

main() {
  local mode=${1:-}
  (($#)) && shift
  case $mode in
  run) cmd_run "$@" ;;
  deps) ensure_deps ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  env) cmd_env "$@" ;;
  exec) cmd_exec "$@" ;;
  __run) cmd__run "$@" ;;
  __hold) cmd__hold "$@" ;;
  -h | --help | help | "") usage ;;
  *) say "unknown mode: $mode"; usage ;;
  esac
}

main "$@"
