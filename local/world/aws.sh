# shellcheck shell=bash
# local/world/aws.sh (sourced by local/world.sh): the AWS side: moto (local/moto_launcher.py) on a
# free loopback port, and the fault proxy (local/fault-proxy.mjs) in front of it.

# start_moto: moto (patched, local/moto_launcher.py) on a free port; waited for by wait_moto.
# Without MOTO_ACCOUNT_ID (it would pin every request to one account): moto takes the account
# from the request's access key, and --default-account names the account of any other key.
# --ecr-mirror: the listener the registries' push notifications go to, so that moto's ECR API
# lists what the registries hold (local/moto_launcher.py, patch 8).
start_moto() {
  T_MOTO=$(now_ms)
  if port_in_use "${ECR_MIRROR##*:}" "${ECR_MIRROR%:*}"; then
    fail_part "moto" "" "$ECR_MIRROR (the ECR mirror) is already in use (another local world running? try: local/world.sh stop)"
  fi
  setsid env -u MOTO_ACCOUNT_ID "$PY" "$HERE/moto_launcher.py" --host 127.0.0.1 --port 0 \
    --port-file "$W/moto.port" --default-account "$ACCOUNT" \
    --ecr-mirror "$ECR_MIRROR" --ecr-mirror-ca "$W/tls/ca.pem" >"$W/moto.log" 2>&1 </dev/null &
  echo $! >"$W/moto.pid"
}

wait_moto() {
  wait_for "moto (local/moto_launcher.py)" "$W/moto.log" "$(cat "$W/moto.pid")" file_nonempty "$W/moto.port"
  MOTO_PORT=$(cat "$W/moto.port")
  wait_for "moto (local/moto_launcher.py)" "$W/moto.log" "$(cat "$W/moto.pid")" \
    http_up "http://127.0.0.1:$MOTO_PORT/"
  echo "moto_ready_ms=$(($(now_ms) - T_MOTO))" >>"$W/timings"
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
