# shellcheck shell=bash
# local/world/engine.sh (sourced by local/world.sh): the Docker engine: reuse one that reaches our
# registry (LOCAL_WORLD_DOCKER), or start our own dockerd of the LOCAL_WORLD_ENGINE kind.

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
