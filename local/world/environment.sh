# shellcheck shell=bash
# local/world/environment.sh (sourced by local/world.sh): the environment contract (see the top
# of local/world.sh) written as `export` lines to <state>/env.sh, and loaded into a command's
# environment.

# write_world_env: the contract (see the top of local/world.sh) as `export` lines in $W/env.sh.
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
