# shellcheck shell=bash
# local/world/deps.sh (sourced by local/world.sh): what the world needs on the machine. Installs
# the missing Debian packages and moto, and fetches Debian 13's engine once into
# LOCAL_WORLD_ENGINE_CACHE when LOCAL_WORLD_ENGINE asks for it (`local/world.sh deps`).

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
