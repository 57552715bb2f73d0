# shellcheck shell=bash
# local/world/lifecycle.sh (sourced by local/world.sh): a world's start (every part, in the order
# that keeps moto's slow start off the critical path) and its stop (every daemon, then the state
# dir), and the watchdog that stops it when the world's own process is killed.

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
