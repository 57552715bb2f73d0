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
# generated hosts file is bind-mounted over /etc/hosts, mapping the ECR host
# name to 127.0.0.1. The machine's real /etc/hosts is never written. Nothing
# listens on anything but loopback.
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
#   LOCAL_ACCOUNT_ID        123456789012 (moto's default; LOCAL_ACCOUNT_ID overrides)
#   LOCAL_REGISTRY_HOST     <account>.dkr.ecr.<region>.amazonaws.com (-> 127.0.0.1:443)
#   LOCAL_REGISTRY_URL      https://<LOCAL_REGISTRY_HOST>
#   LOCAL_REGISTRY_CA       PEM of the CA that signed the registry's certificate
#   LOCAL_REGISTRY_PASSWORD <account>-auth-token (user AWS), what ECR's token decodes to
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
#   LOCAL_ACCOUNT_ID   account id (default 123456789012; passed to moto as MOTO_ACCOUNT_ID)
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
# Logs: <state>/dockerd.log, registry.log, moto.log, fault-proxy.log, world.log
# (start mode). On a failed start the tail of the failing part's log is printed.

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
REG_HOST="${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com"
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

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

file_nonempty() { [[ -s $1 ]]; }

http_up() { # any HTTP answer at all
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1") || true
  [[ -n $code && $code != 000 ]]
}

registry_ready() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$W/tls/ca.pem" "https://$REG_HOST/v2/") || return 1
  [[ $code == 401 ]]
}

# ------------------------------------------------------------------ start

# start_world: needs $W (state dir) and runs inside the private mount namespace. One starter
# per part; the slow ones (moto, registry, engine) start in parallel and are waited for later.
start_world() {
  local t_start
  t_start=$(now_ms)
  mkdir -p "$W"/{tls,registry/data,docker-config,aws,x}
  start_watchdog
  : >"$W/aws/config"
  : >"$W/aws/credentials"
  : >"$W/timings"
  mount_hosts_file
  make_tls
  configure_registry
  start_moto
  start_registry
  start_engine
  wait_moto
  start_fault_proxy
  write_world_env
  echo "world_start_ms=$(($(now_ms) - t_start))" >>"$W/timings"
}

# mount_hosts_file: a hosts file over /etc/hosts (in this namespace only) naming the ECR host.
mount_hosts_file() {
  {
    grep -v -F "$REG_HOST" /etc/hosts || true
    echo "127.0.0.1 localhost"
    echo "127.0.0.1 $REG_HOST"
  } >"$W/hosts"
  mount --bind "$W/hosts" /etc/hosts || die "bind-mounting the hosts file failed (not in a private mount namespace?)"
  [[ $(getent hosts "$REG_HOST" || true) == 127.0.0.1* ]] || die "$REG_HOST does not resolve to 127.0.0.1 after mounting the hosts file"
}

# make_tls: a throwaway CA and a leaf for the ECR host name.
make_tls() {
  local t0
  t0=$(now_ms)
  (
    cd "$W/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -keyout ca.key -out ca.pem -subj "/CN=local-world test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout registry.key -out registry.csr -subj "/CN=$REG_HOST"
    printf 'subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' "$REG_HOST" >leaf.ext
    openssl x509 -req -in registry.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile leaf.ext -out registry.pem
    cat registry.pem ca.pem >registry-chain.pem
  ) >"$W/openssl.log" 2>&1 || fail_part "TLS certificate (openssl)" "$W/openssl.log" "openssl failed"
  echo "tls_ms=$(($(now_ms) - t0))" >>"$W/timings"
}

# configure_registry: the registry's config and htpasswd (password = what ECR's token decodes to).
configure_registry() {
  htpasswd -Bbn AWS "${ACCOUNT}-auth-token" >"$W/registry/htpasswd" 2>"$W/htpasswd.log" ||
    fail_part "htpasswd" "$W/htpasswd.log" "htpasswd failed"
  cat >"$W/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $W/registry/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:443
  host: https://$REG_HOST
  secret: local-world-not-a-secret
  tls:
    certificate: $W/tls/registry-chain.pem
    key: $W/tls/registry.key
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: basic-realm
    path: $W/registry/htpasswd
health:
  storagedriver:
    enabled: false
EOF
  if port_in_use 443; then
    fail_part "registry" "" "127.0.0.1:443 is already in use (another local world running? try: local/world.sh stop)"
  fi
}

# start_moto: moto (patched, local/moto_launcher.py) on a free port; waited for by wait_moto.
start_moto() {
  T_MOTO=$(now_ms)
  MOTO_ACCOUNT_ID="$ACCOUNT" setsid "$PY" "$HERE/moto_launcher.py" --host 127.0.0.1 --port 0 \
    --port-file "$W/moto.port" >"$W/moto.log" 2>&1 </dev/null &
  echo $! >"$W/moto.pid"
}

wait_moto() {
  wait_for "moto (local/moto_launcher.py)" "$W/moto.log" "$(cat "$W/moto.pid")" file_nonempty "$W/moto.port"
  MOTO_PORT=$(cat "$W/moto.port")
  wait_for "moto (local/moto_launcher.py)" "$W/moto.log" "$(cat "$W/moto.pid")" \
    http_up "http://127.0.0.1:$MOTO_PORT/"
  echo "moto_ready_ms=$(($(now_ms) - T_MOTO))" >>"$W/timings"
}

# start_registry: docker-registry with TLS and basic auth on 127.0.0.1:443, ready on return.
start_registry() {
  local t0
  t0=$(now_ms)
  setsid docker-registry serve "$W/registry/config.yml" >"$W/registry.log" 2>&1 </dev/null &
  echo $! >"$W/registry.pid"
  wait_for "registry (docker-registry on 127.0.0.1:443)" "$W/registry.log" "$(cat "$W/registry.pid")" registry_ready
  echo "registry_ready_ms=$(($(now_ms) - t0))" >>"$W/timings"
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
    ev LOCAL_REGISTRY_HOST "$REG_HOST"
    ev LOCAL_REGISTRY_URL "https://$REG_HOST"
    ev LOCAL_REGISTRY_CA "$W/tls/ca.pem"
    ev LOCAL_REGISTRY_PASSWORD "${ACCOUNT}-auth-token"
    ev NODE_EXTRA_CA_CERTS "$node_ca"
    ev DOCKER_HOST "$(cat "$W/docker.host")"
    ev DOCKER_CONFIG "$W/docker-config"
    ev LOCAL_WORLD_DIR "$W"
    ev LOCAL_WORLD_ENGINE "$ENGINE"
  } >"$W/env.sh"
}

ev() { printf 'export %s=%q\n' "$1" "$2"; }

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
  for f in proxy dockerd.launcher registry moto; do term_pidfile "$W/$f.pid"; done
  reap_pidfile "$W/proxy.pid" "fault proxy" 3
  reap_pidfile "$W/dockerd.launcher.pid" dockerd 15
  rm -f "$W/dockerd.pid"
  # dockerd stops its containerd; make sure no child outlives it
  reap_pidfile "$W/x/containerd/containerd.pid" containerd 5
  reap_pidfile "$W/registry.pid" registry 5
  reap_pidfile "$W/moto.pid" moto 5
  # mounts dockerd may have left under the state dir (this namespace only)
  local m
  while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
    awk -v d="$W/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
  rm -f "$W/holder.pid" "$W/ready"
  if [[ -n ${KEEP_STATE:-} ]]; then
    rm -rf "$W/docker" "$W/registry/data" "$W/x"
  elif [[ ${LOCAL_WORLD_KEEP:-0} == 1 ]]; then
    say "state kept in $W (LOCAL_WORLD_KEEP=1)"
  elif [[ -f $W/.mktemp ]]; then
    rm -rf "$W"
  else
    rm -rf "$W/docker" "$W/registry/data" "$W/x"
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
