# shellcheck shell=bash
# local/world/registries.sh (sourced by local/world.sh): the four registries, one per account and
# region, each under its ECR host name on its own loopback address: the hosts file that names
# them, the TLS CA and certificates, each registry's config, start and readiness.

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
notifications:
  endpoints:
    - name: ecr-mirror
      url: http://$ECR_MIRROR/registry-events
      timeout: 5s
      threshold: 5
      backoff: 200ms
      ignoredmediatypes:
        - application/octet-stream
EOF
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
