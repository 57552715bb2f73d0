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
READY_TIMEOUT="${LOCAL_WORLD_TIMEOUT:-30}"
PY="${LOCAL_WORLD_PYTHON:-python3}"

say() { printf 'local-world: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }

usage() {
  sed -n '2,15p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ------------------------------------------------------------------ packages

ensure_deps() {
  local -a missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  { command -v unshare && command -v nsenter && command -v setsid; } >/dev/null 2>&1 || missing+=(util-linux)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # bench/cache.mjs builds its base image from a static busybox (no image can be pulled here)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  command -v node >/dev/null 2>&1 || die "node is required (for the fault proxy)"
  if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || die "missing packages (${missing[*]}) and not root to install them"
    local -a pkgs
    mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" ca-certificates | sort -u)
    say "installing Debian packages: ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 || die "apt-get install ${pkgs[*]} failed"
  fi
  if ! "$PY" -c 'import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in ("moto", "werkzeug", "flask", "yaml")) else 1)' >/dev/null 2>&1; then
    say "moto not importable by $PY; running pip install 'moto[server]'"
    "$PY" -m pip install -q 'moto[server]' >&2 || die "pip install 'moto[server]' failed (is the Python package index reachable?)"
  fi
  [[ $(id -u) == 0 ]] || die "must run as root (mount namespace, dockerd, port 443)"
  ensure_engine
}

# ensure_engine: the engine LOCAL_WORLD_ENGINE asks for is on disk (fetches Debian 13's once).
ensure_engine() {
  case $ENGINE in
  legacy) ;;
  buildkit | containerd) [[ -f $TRIXIE_ROOT/.complete ]] || fetch_trixie_engine ;;
  *) die "LOCAL_WORLD_ENGINE=$ENGINE: expected legacy, buildkit or containerd" ;;
  esac
}

# debian_mirror: the Debian archive URI this machine's apt already uses (never another host).
debian_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^[[:space:]]*deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }
         /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i }' |
    grep -E '/debian/?$' | head -n 1) || true
  [[ -n $uri ]] || die "no Debian archive (…/debian) in /etc/apt/sources.list*: cannot fetch the Debian 13 engine"
  printf '%s\n' "${uri%/}"
}

# fetch_trixie_engine: Debian 13's docker.io, containerd and docker-buildx, unpacked with
# `dpkg -x` into $TRIXIE_ROOT. apt runs with a private source list, lists and cache: the
# machine's apt sources and package state are never touched.
fetch_trixie_engine() {
  local mirror apt_dir keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mirror=$(debian_mirror)
  [[ -r $keyring ]] || die "$keyring missing (package debian-archive-keyring): cannot check Debian 13's signatures"
  apt_dir="$ENGINE_CACHE/apt"
  rm -rf "$apt_dir" "$TRIXIE_ROOT.tmp"
  mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,debs} "$TRIXIE_ROOT.tmp"
  printf 'deb [signed-by=%s] %s trixie main\n' "$keyring" "$mirror" >"$apt_dir/sources.list"
  local -a opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
  say "fetching Debian 13's ${TRIXIE_PACKAGES[*]} from $mirror (private apt lists in $apt_dir)"
  apt-get "${opts[@]}" -qq update >"$apt_dir/update.log" 2>&1 ||
    fail_part "Debian 13 package lists (apt-get update; is the network reachable? run 'local/world.sh deps' outside any network namespace)" "$apt_dir/update.log" "apt-get update failed"
  (cd "$apt_dir/debs" && apt-get "${opts[@]}" -qq download "${TRIXIE_PACKAGES[@]}") >"$apt_dir/download.log" 2>&1 ||
    fail_part "Debian 13 packages (apt-get download)" "$apt_dir/download.log" "apt-get download failed"
  local i deb version
  for i in "${!TRIXIE_PACKAGES[@]}"; do
    deb=$(ls "$apt_dir/debs/${TRIXIE_PACKAGES[$i]}"_*.deb)
    version=$(dpkg-deb -f "$deb" Version)
    [[ $version == "${TRIXIE_VERSIONS[$i]}"* ]] ||
      say "warning: Debian 13 now has ${TRIXIE_PACKAGES[$i]} $version (the world was proven with ${TRIXIE_VERSIONS[$i]})"
    dpkg -x "$deb" "$TRIXIE_ROOT.tmp"
    echo "${TRIXIE_PACKAGES[$i]} $version" >>"$TRIXIE_ROOT.tmp/.versions"
  done
  rm -rf "$TRIXIE_ROOT" "$apt_dir/debs" "$apt_dir/cache"
  touch "$TRIXIE_ROOT.tmp/.complete"
  mv "$TRIXIE_ROOT.tmp" "$TRIXIE_ROOT"
  say "Debian 13 engine ready in $TRIXIE_ROOT ($(paste -sd, "$TRIXIE_ROOT/.versions"))"
}

# ------------------------------------------------------------------ helpers

# wait_for <what> <logfile> <pid-or-empty> <cmd...>: poll cmd until it succeeds.
wait_for() {
  local what=$1 logf=$2 pid=$3
  shift 3
  local deadline=$(($(date +%s) + READY_TIMEOUT))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n $pid ]] && ! alive "$pid"; then
      fail_part "$what" "$logf" "process exited during startup"
    fi
    if (($(date +%s) >= deadline)); then
      fail_part "$what" "$logf" "not ready after ${READY_TIMEOUT}s"
    fi
    sleep 0.05
  done
}

fail_part() {
  local what=$1 logf=$2 why=$3
  say "FAILED to start $what: $why"
  if [[ -f $logf ]]; then
    say "---- last lines of $logf ----"
    tail -n 25 "$logf" >&2 || true
    say "---- end of $logf ----"
  fi
  exit 1
}

port_in_use() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

file_nonempty() { [[ -s $1 ]]; }

http_up() { # any HTTP answer at all
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1") || true
  [[ -n $code && $code != 000 ]]
}

registry_ready() { # registry_ready <host>: answers /v2/ over TLS (checked) with 401
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$W/tls/ca.pem" "https://$1/v2/") || return 1
  [[ $code == 401 ]]
}

reg_host() { printf '%s.dkr.ecr.%s.amazonaws.com' "${REG_ACCOUNTS[$1]}" "${REG_REGIONS[$1]}"; }

# reg_name <i>: the registry's name in the state dir (its dir, log, pid file and TLS files).
reg_name() {
  if (($1 == 0)); then printf registry; else printf 'registry-%s-%s' "${REG_ACCOUNTS[$1]}" "${REG_REGIONS[$1]}"; fi
}

# ------------------------------------------------------------------ start

# start_world: needs $W (state dir) and runs inside the private mount namespace. One starter
# per part; the slow ones (moto, registries, engine) start in parallel and are waited for later.
start_world() {
  local t_start
  t_start=$(now_ms)
  [[ $ACCOUNT != "$ACCOUNT2" ]] || die "LOCAL_ACCOUNT_ID and LOCAL_ACCOUNT_ID_2 are both $ACCOUNT: give two accounts"
  [[ $REGION != "$REGION2" ]] || die "LOCAL_REGION and LOCAL_REGION_2 are both $REGION: give two regions"
  mkdir -p "$W"/{tls,docker-config,aws,x}
  start_watchdog
  : >"$W/aws/config"
  : >"$W/aws/credentials"
  : >"$W/timings"
  # moto's start (python imports) is the longest: nothing it needs comes first
  start_moto
  mount_hosts_file
  make_tls
  configure_registries
  start_registries
  # the engine's reuse probe logs in to the first registry; the others are waited for after
  wait_registry 0
  start_engine
  wait_registries
  wait_moto
  start_fault_proxy
  write_world_env
  echo "world_start_ms=$(($(now_ms) - t_start))" >>"$W/timings"
}

# mount_hosts_file: a hosts file over /etc/hosts (in this namespace only) naming the ECR hosts.
mount_hosts_file() {
  local i host
  {
    grep -v -F -e "$(reg_host 0)" -e "$(reg_host 1)" -e "$(reg_host 2)" -e "$(reg_host 3)" /etc/hosts || true
    echo "127.0.0.1 localhost"
    for i in "${!REG_ADDRS[@]}"; do echo "${REG_ADDRS[$i]} $(reg_host "$i")"; done
  } >"$W/hosts"
  mount --bind "$W/hosts" /etc/hosts || die "bind-mounting the hosts file failed (not in a private mount namespace?)"
  for i in "${!REG_ADDRS[@]}"; do
    host=$(reg_host "$i")
    [[ $(getent hosts "$host" || true) == "${REG_ADDRS[$i]} "* ]] ||
      die "$host does not resolve to ${REG_ADDRS[$i]} after mounting the hosts file"
  done
}

# make_tls: a throwaway CA and one leaf per registry for its ECR host name (signed in parallel).
make_tls() {
  local t0 i
  t0=$(now_ms)
  (
    cd "$W/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -keyout ca.key -out ca.pem -subj "/CN=local-world test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    local -a pids=()
    for i in "${!REG_ADDRS[@]}"; do
      make_leaf "$(reg_name "$i")" "$(reg_host "$i")" "${REG_ADDRS[$i]}" &
      pids+=($!)
    done
    wait_all "${pids[@]}"
  ) >"$W/openssl.log" 2>&1 || fail_part "TLS certificates (openssl)" "$W/openssl.log" "openssl failed"
  echo "tls_ms=$(($(now_ms) - t0))" >>"$W/timings"
}

# make_leaf <name> <host> <address>: <name>.key and <name>-chain.pem (leaf + CA) in the cwd.
make_leaf() {
  local name=$1 host=$2 addr=$3 san
  san="DNS:$host,IP:$addr"
  [[ $addr != 127.0.0.1 ]] || san="DNS:$host,DNS:localhost,IP:127.0.0.1"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$name.key" -out "$name.csr" -subj "/CN=$host" || return 1
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$san" >"$name.ext"
  # a serial of its own: parallel signers must not share ca.srl
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -days 2 -extfile "$name.ext" -out "$name.pem" || return 1
  cat "$name.pem" ca.pem >"$name-chain.pem"
}

# wait_all <pid...>: waits for each; fails if any failed.
wait_all() {
  local pid rc=0
  for pid in "$@"; do wait "$pid" || rc=1; done
  return $rc
}

# configure_registries: each registry's storage, config and htpasswd (password = what ECR's
# token decodes to for its account).
configure_registries() {
  local i
  for i in "${!REG_ADDRS[@]}"; do
    if port_in_use 443 "${REG_ADDRS[$i]}"; then
      fail_part "registry" "" "${REG_ADDRS[$i]}:443 is already in use (another local world running? try: local/world.sh stop)"
    fi
    configure_registry "$(reg_name "$i")" "$(reg_host "$i")" "${REG_ADDRS[$i]}" "${REG_ACCOUNTS[$i]}"
  done
}

# configure_registry <name> <host> <address> <account>
configure_registry() {
  local name=$1 host=$2 addr=$3 account=$4 dir="$W/$1"
  mkdir -p "$dir/data"
  htpasswd -Bbn AWS "${account}-auth-token" >"$dir/htpasswd" 2>"$W/htpasswd.log" ||
    fail_part "htpasswd" "$W/htpasswd.log" "htpasswd failed"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $addr:443
  host: https://$host
  secret: local-world-not-a-secret
  tls:
    certificate: $W/tls/$name-chain.pem
    key: $W/tls/$name.key
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: basic-realm
    path: $dir/htpasswd
health:
  storagedriver:
    enabled: false
EOF
}

# start_moto: moto (patched, local/moto_launcher.py) on a free port; waited for by wait_moto.
# Without MOTO_ACCOUNT_ID (it would pin every request to one account): moto takes the account
# from the request's access key, and --default-account names the account of any other key.
start_moto() {
  T_MOTO=$(now_ms)
  setsid env -u MOTO_ACCOUNT_ID "$PY" "$HERE/moto_launcher.py" --host 127.0.0.1 --port 0 \
    --port-file "$W/moto.port" --default-account "$ACCOUNT" >"$W/moto.log" 2>&1 </dev/null &
  echo $! >"$W/moto.pid"
}

wait_moto() {
  wait_for "moto (local/moto_launcher.py)" "$W/moto.log" "$(cat "$W/moto.pid")" file_nonempty "$W/moto.port"
  MOTO_PORT=$(cat "$W/moto.port")
  wait_for "moto (local/moto_launcher.py)" "$W/moto.log" "$(cat "$W/moto.pid")" \
    http_up "http://127.0.0.1:$MOTO_PORT/"
  echo "moto_ready_ms=$(($(now_ms) - T_MOTO))" >>"$W/timings"
}

# start_registries: one docker-registry per account and region, all launched at once; each is
# waited for by wait_registry.
start_registries() {
  local i name
  T_REGISTRIES=$(now_ms)
  for i in "${!REG_ADDRS[@]}"; do
    name=$(reg_name "$i")
    setsid docker-registry serve "$W/$name/config.yml" >"$W/$name.log" 2>&1 </dev/null &
    echo $! >"$W/$name.pid"
  done
}

# wait_registry <i>: registry i answers over TLS under its host name.
wait_registry() {
  local name
  name=$(reg_name "$1")
  wait_for "registry (docker-registry on ${REG_ADDRS[$1]}:443, $(reg_host "$1"))" "$W/$name.log" \
    "$(cat "$W/$name.pid")" registry_ready "$(reg_host "$1")"
  (($1 != 0)) || echo "registry_ready_ms=$(($(now_ms) - T_REGISTRIES))" >>"$W/timings"
}

# wait_registries: the registries after the first (start_world waits for that one earlier).
wait_registries() {
  local i
  for ((i = 1; i < ${#REG_ADDRS[@]}; i++)); do wait_registry "$i"; done
  echo "registries_ready_ms=$(($(now_ms) - T_REGISTRIES))" >>"$W/timings"
}

# start_engine: reuse a running engine that reaches our registry, or start our own
# (LOCAL_WORLD_ENGINE picks which); ready on return. Writes $W/docker.host.
start_engine() {
  local docker_mode="${LOCAL_WORLD_DOCKER:-auto}" reuse=0
  echo '{}' >"$W/docker-config/config.json"
  if [[ $docker_mode != own ]] && timeout 5 docker info >/dev/null 2>&1; then
    if printf '%s' "${ACCOUNT}-auth-token" | DOCKER_CONFIG="$W/x" timeout 15 \
      docker login --username AWS --password-stdin "$REG_HOST" >"$W/docker-reuse-probe.log" 2>&1; then
      reuse=1
    fi
    rm -f "$W/x/config.json"
  fi
  if ((reuse)); then
    local host="${DOCKER_HOST:-}"
    [[ -n $host ]] || host=$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || echo unix:///var/run/docker.sock)
    echo "$host" >"$W/docker.host"
    ENGINE=reused
    say "reusing the running Docker engine at $host"
    echo "dockerd_ready_ms=0 (reused)" >>"$W/timings"
    return
  fi
  [[ $docker_mode != reuse ]] || fail_part "Docker engine" "$W/docker-reuse-probe.log" "LOCAL_WORLD_DOCKER=reuse but no usable engine reaches $REG_HOST"
  start_dockerd
}

# start_dockerd: our own dockerd on a socket in the state dir, no networking, no iptables.
start_dockerd() {
  local sock="$W/docker.sock" dockerd=dockerd t0
  ((${#sock} < 100)) || die "state dir path too long for a unix socket: $sock"
  local -a path_prefix=()
  case $ENGINE in
  legacy)
    echo '{"storage-driver": "vfs"}' >"$W/daemon.json"
    ;;
  buildkit | containerd)
    [[ -x $TRIXIE_ROOT/usr/sbin/dockerd ]] || die "the Debian 13 engine is not in $TRIXIE_ROOT: run 'local/world.sh deps' (outside any network namespace)"
    dockerd="$TRIXIE_ROOT/usr/sbin/dockerd"
    # dockerd finds containerd and its shim on PATH; runc stays Debian 12's (/usr/sbin).
    path_prefix=(env "PATH=$TRIXIE_ROOT/usr/bin:$PATH")
    if [[ $ENGINE == containerd ]]; then
      echo '{"storage-driver": "native", "features": {"containerd-snapshotter": true}}' >"$W/daemon.json"
    else
      echo '{"storage-driver": "vfs", "features": {"containerd-snapshotter": false}}' >"$W/daemon.json"
    fi
    # the CLI finds the buildx plugin through the world's config, so `docker build` is BuildKit
    printf '{"cliPluginsExtraDirs": ["%s"]}\n' "$TRIXIE_ROOT/usr/libexec/docker/cli-plugins" >"$W/docker-config/config.json"
    ;;
  esac
  t0=$(now_ms)
  setsid "${path_prefix[@]}" "$dockerd" --config-file "$W/daemon.json" \
    --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
    --userland-proxy=false --data-root "$W/docker" --exec-root "$W/x" \
    --pidfile "$W/dockerd.pid" --host "unix://$sock" >"$W/dockerd.log" 2>&1 </dev/null &
  echo $! >"$W/dockerd.launcher.pid"
  echo "unix://$sock" >"$W/docker.host"
  wait_for "dockerd ($ENGINE engine)" "$W/dockerd.log" "$(cat "$W/dockerd.launcher.pid")" \
    env DOCKER_HOST="unix://$sock" DOCKER_CONFIG="$W/docker-config" docker info
  echo "dockerd_ready_ms=$(($(now_ms) - t0))" >>"$W/timings"
}

# start_fault_proxy: local/fault-proxy.mjs in front of moto; ready on return.
start_fault_proxy() {
  local t0
  t0=$(now_ms)
  setsid node "$HERE/fault-proxy.mjs" --target "http://127.0.0.1:$MOTO_PORT" --port 0 \
    --port-file "$W/proxy.port" >"$W/fault-proxy.log" 2>&1 </dev/null &
  echo $! >"$W/proxy.pid"
  wait_for "fault proxy (local/fault-proxy.mjs)" "$W/fault-proxy.log" "$(cat "$W/proxy.pid")" file_nonempty "$W/proxy.port"
  PROXY_PORT=$(cat "$W/proxy.port")
  wait_for "fault proxy (local/fault-proxy.mjs)" "$W/fault-proxy.log" "$(cat "$W/proxy.pid")" \
    curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$PROXY_PORT/__faults/health"
  echo "proxy_ready_ms=$(($(now_ms) - t0))" >>"$W/timings"
}

# write_world_env: the contract (see the top of this file) as `export` lines in $W/env.sh.
write_world_env() {
  local node_ca="$W/tls/ca.pem"
  if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -r ${NODE_EXTRA_CA_CERTS:-} && ${NODE_EXTRA_CA_CERTS} != "$W/tls/ca.pem" && ${NODE_EXTRA_CA_CERTS} != "$W/tls/node-bundle.pem" ]]; then
    cat "$NODE_EXTRA_CA_CERTS" "$W/tls/ca.pem" >"$W/tls/node-bundle.pem"
    node_ca="$W/tls/node-bundle.pem"
  fi
  {
    ev AWS_ENDPOINT_URL "http://127.0.0.1:$PROXY_PORT"
    ev LOCAL_FAULT_PROXY_URL "http://127.0.0.1:$PROXY_PORT"
    ev LOCAL_MOTO_URL "http://127.0.0.1:$MOTO_PORT"
    ev AWS_ACCESS_KEY_ID testing
    ev AWS_SECRET_ACCESS_KEY testing
    ev AWS_REGION "$REGION"
    ev AWS_DEFAULT_REGION "$REGION"
    ev AWS_EC2_METADATA_DISABLED true
    ev AWS_CONFIG_FILE "$W/aws/config"
    ev AWS_SHARED_CREDENTIALS_FILE "$W/aws/credentials"
    ev LOCAL_ACCOUNT_ID "$ACCOUNT"
    ev LOCAL_ACCOUNT_ID_2 "$ACCOUNT2"
    ev LOCAL_REGION_2 "$REGION2"
    ev LOCAL_REGISTRY_HOST "$REG_HOST"
    ev LOCAL_REGISTRY_URL "https://$REG_HOST"
    ev LOCAL_REGISTRY_CA "$W/tls/ca.pem"
    ev LOCAL_REGISTRY_PASSWORD "${ACCOUNT}-auth-token"
    ev LOCAL_REGISTRY_PASSWORD_2 "${ACCOUNT2}-auth-token"
    ev LOCAL_REGISTRIES "$(registries_json)"
    ev NODE_EXTRA_CA_CERTS "$node_ca"
    ev DOCKER_HOST "$(cat "$W/docker.host")"
    ev DOCKER_CONFIG "$W/docker-config"
    ev LOCAL_WORLD_DIR "$W"
    ev LOCAL_WORLD_ENGINE "$ENGINE"
  } >"$W/env.sh"
}

ev() { printf 'export %s=%q\n' "$1" "$2"; }

# registries_json: LOCAL_REGISTRIES, one object per registry (no value needs JSON escaping).
registries_json() {
  local i sep='' host
  printf '['
  for i in "${!REG_ADDRS[@]}"; do
    host=$(reg_host "$i")
    printf '%s{"account":"%s","region":"%s","host":"%s","address":"%s","url":"https://%s","password":"%s-auth-token","log":"%s"}' \
      "$sep" "${REG_ACCOUNTS[$i]}" "${REG_REGIONS[$i]}" "$host" "${REG_ADDRS[$i]}" "$host" "${REG_ACCOUNTS[$i]}" "$W/$(reg_name "$i").log"
    sep=,
  done
  printf ']'
}

load_world_env() {
  local v
  while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -E '^AWS_ENDPOINT_URL_' || true)
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
  # shellcheck disable=SC1091
  source "$W/env.sh"
}

# ------------------------------------------------------------------ stop

alive() { # alive <pid>: exists and is not a zombie
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $st != Z ]]
}

term_pidfile() { # term_pidfile <file>: send SIGTERM if the process is alive
  [[ -s $1 ]] || return 0
  kill -TERM "$(cat "$1")" 2>/dev/null || true
}

reap_pidfile() { # reap_pidfile <file> <name> [grace-seconds]: wait, then SIGKILL
  local f=$1 name=$2 grace=${3:-5} pid i t0
  [[ -s $f ]] || return 0
  t0=$(now_ms)
  pid=$(cat "$f")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 50; i++)); do
      alive "$pid" || break
      sleep 0.02
    done
    if alive "$pid"; then
      say "$name did not stop in ${grace}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
  [[ -z ${LOCAL_WORLD_DEBUG:-} ]] || say "stopped $name in $(($(now_ms) - t0)) ms"
}

# A watchdog subshell stops the daemons if the world's main process dies
# without running its EXIT trap (e.g. SIGKILL).
start_watchdog() {
  local parent=$$
  (
    trap '' INT HUP
    trap 'exit 0' TERM
    exec </dev/null >>"$W/watchdog.log" 2>&1
    while alive "$parent"; do sleep 0.5; done
    say "world process $parent vanished; stopping its daemons"
    stop_world
  ) &
  WATCHDOG=$!
}

stop_world() {
  [[ -n ${W:-} && -d $W ]] || return 0
  if [[ -n ${WATCHDOG:-} && $BASHPID != "$WATCHDOG" ]]; then
    kill -TERM "$WATCHDOG" 2>/dev/null || true
    WATCHDOG=
  fi
  # the command (only still alive if the world's main process was killed)
  reap_pidfile "$W/command.pid" command 3
  # signal everything first, then wait for each (stops in parallel)
  local f
  for f in "$W"/proxy.pid "$W"/dockerd.launcher.pid "$W"/registry*.pid "$W"/moto.pid; do term_pidfile "$f"; done
  reap_pidfile "$W/proxy.pid" "fault proxy" 3
  reap_pidfile "$W/dockerd.launcher.pid" dockerd 15
  rm -f "$W/dockerd.pid"
  # dockerd stops its containerd; make sure no child outlives it
  reap_pidfile "$W/x/containerd/containerd.pid" containerd 5
  # one registry per account and region (registry.pid, registry-<account>-<region>.pid)
  for f in "$W"/registry*.pid; do reap_pidfile "$f" "$(basename "$f" .pid)" 5; done
  reap_pidfile "$W/moto.pid" moto 5
  # mounts dockerd may have left under the state dir (this namespace only)
  local m
  while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
    awk -v d="$W/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
  rm -f "$W/holder.pid" "$W/ready"
  if [[ -n ${KEEP_STATE:-} ]]; then
    rm -rf "$W/docker" "$W"/registry*/data "$W/x"
  elif [[ ${LOCAL_WORLD_KEEP:-0} == 1 ]]; then
    say "state kept in $W (LOCAL_WORLD_KEEP=1)"
  elif [[ -f $W/.mktemp ]]; then
    rm -rf "$W"
  else
    rm -rf "$W/docker" "$W"/registry*/data "$W/x"
  fi
}

# ------------------------------------------------------------------ modes

make_state_dir() {
  if [[ -n ${LOCAL_WORLD_DIR:-} ]]; then
    mkdir -p "$LOCAL_WORLD_DIR"
    W="$(readlink -f "$LOCAL_WORLD_DIR")"
    rm -f "$W"/{ready,failed,env.sh,*.port,*.pid}
  else
    W="$(mktemp -d "${TMPDIR:-/tmp}/local-world.XXXXXX")"
    touch "$W/.mktemp"
  fi
  chmod 755 "$W"
}

cmd_run() {
  [[ ${1:-} == -- ]] && shift
  (($#)) || usage
  ensure_deps
  make_state_dir
  export __LOCAL_WORLD_W="$W"
  exec unshare --mount --propagation private -- bash "$SELF" __run "$@"
}

# inside the namespace (same pid as `run`, since unshare execs)
cmd__run() {
  W="$__LOCAL_WORLD_W"
  unset __LOCAL_WORLD_W
  child=0 rc=0
  trap 'rc=$?; stop_world; exit $rc' EXIT
  # shellcheck disable=SC2317  # invoked from the traps below
  forward() { if ((child)); then kill -s "$1" "$child" 2>/dev/null || true; else exit $((128 + $2)); fi; }
  trap 'forward INT 2' INT
  trap 'forward TERM 15' TERM
  trap 'forward HUP 1' HUP
  start_world
  echo $$ >"$W/holder.pid"
  load_world_env
  say "ready in $(sed -n 's/^world_start_ms=//p' "$W/timings") ms (state: $W); running: $*"
  # a background job's stdin would be /dev/null: hand the real one over via fd 3
  if [[ -e /proc/$BASHPID/fd/0 ]]; then exec 3<&0; else exec 3</dev/null; fi
  "$@" <&3 3<&- &
  child=$!
  echo "$child" >"$W/command.pid"
  exec 3<&-
  while :; do
    set +e
    wait "$child"
    rc=$?
    set -e
    alive "$child" || break
  done
  child=0
  exit "$rc"
}

cmd_start() {
  ensure_deps
  make_state_dir
  if [[ -s $POINTER ]]; then
    local old
    old=$(cat "$POINTER")
    if [[ -s $old/holder.pid ]] && alive "$(cat "$old/holder.pid")"; then
      [[ -f $W/.mktemp ]] && rm -rf "$W"
      die "a world is already running (state: $old); run: local/world.sh stop"
    fi
  fi
  __LOCAL_WORLD_W="$W" setsid unshare --mount --propagation private -- bash "$SELF" __hold \
    </dev/null >"$W/world.log" 2>&1 &
  local pid=$! deadline=$(($(date +%s) + READY_TIMEOUT * 3))
  while [[ ! -f $W/ready ]]; do
    if ! alive "$pid"; then
      say "world failed to start; world.log:"
      cat "$W/world.log" >&2 || true
      [[ -f $W/.mktemp ]] && rm -rf "$W"
      exit 1
    fi
    (($(date +%s) < deadline)) || {
      kill "$pid" 2>/dev/null || true
      die "world not ready in time; see $W/world.log"
    }
    sleep 0.05
  done
  echo "$W" >"$POINTER"
  cat >&2 <<EOF
local-world: started (holder pid $(cat "$W/holder.pid"), state $W, $(sed -n 's/^world_start_ms=//p' "$W/timings") ms)
  run a command inside it:   local/world.sh exec -- <cmd> [args...]
  print its environment:     local/world.sh env
  stop it:                   local/world.sh stop
  (another shell: LOCAL_WORLD_DIR=$W local/world.sh exec -- ...)
EOF
}

cmd__hold() {
  W="$__LOCAL_WORLD_W"
  unset __LOCAL_WORLD_W
  sleeper=0
  # on a failed start keep the state dir: `start` prints world.log, then removes it
  trap 'rc=$?; ((sleeper)) && kill "$sleeper" 2>/dev/null; [[ -f $W/ready ]] || KEEP_STATE=1; stop_world; [[ -z ${KEEP_STATE:-} ]] || touch "$W/failed"; exit $rc' EXIT
  trap 'exit 0' TERM INT HUP
  start_world
  echo $$ >"$W/holder.pid"
  touch "$W/ready"
  say "world ready; holding (pid $$)"
  while :; do
    sleep 3600 &
    sleeper=$!
    wait "$sleeper" || true
  done
}

find_world() {
  if [[ -n ${LOCAL_WORLD_DIR:-} ]]; then
    W="$(readlink -f "$LOCAL_WORLD_DIR")"
  elif [[ -s $POINTER ]]; then
    W="$(cat "$POINTER")"
  else
    die "no running world found (start one with: local/world.sh start)"
  fi
  [[ -s $W/holder.pid && -s $W/env.sh ]] || die "no running world in $W"
  HOLDER=$(cat "$W/holder.pid")
  alive "$HOLDER" || die "the world in $W is not running (holder pid $HOLDER is gone)"
}

cmd_env() {
  find_world
  cat "$W/env.sh"
}

cmd_exec() {
  [[ ${1:-} == -- ]] && shift
  (($#)) || usage
  find_world
  load_world_env
  exec nsenter --mount="/proc/$HOLDER/ns/mnt" --wd="$PWD" -- "$@"
}

cmd_stop() {
  find_world
  kill -TERM "$HOLDER" 2>/dev/null || true
  local i
  for ((i = 0; i < 600; i++)); do
    alive "$HOLDER" || break
    sleep 0.05
  done
  alive "$HOLDER" && die "holder $HOLDER did not stop in 30s"
  [[ -s $POINTER && $(cat "$POINTER") == "$W" ]] && rm -f "$POINTER"
  say "stopped (state $W)"
}

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
