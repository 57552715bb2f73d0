# shellcheck shell=bash
# local/world/processes.sh (sourced by local/world.sh): waiting for a part to become ready (and
# naming it, with the tail of its log, when it does not), probes, and stopping processes by
# their pid files.

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

# wait_all <pid...>: waits for each; fails if any failed.
wait_all() {
  local pid rc=0
  for pid in "$@"; do wait "$pid" || rc=1; done
  return $rc
}

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
