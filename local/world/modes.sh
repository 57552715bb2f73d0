# shellcheck shell=bash
# local/world/modes.sh (sourced by local/world.sh): the CLI's modes: `run` (a world for one
# command, in a private mount namespace), `start`/`stop` (a world held in the background),
# `exec` and `env` (into a running world), and the state dir they share.

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
