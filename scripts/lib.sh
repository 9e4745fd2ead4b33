# Shared by scripts/test, scripts/demo and scripts/broadcast (sourced, not run).
# Installs what is missing from Debian, builds with CMake, finds the binaries.

# What the build and the demo need, from Debian 12.
CAMPAIGN_PACKAGES=(
  build-essential cmake pkg-config
  libsqlite3-dev libjansson-dev libopencc-dev libinih-dev libcmocka-dev
  libcurl4-openssl-dev libmosquitto-dev libssl-dev libwslay-dev
  libzip-dev libxml2-dev libpoppler-glib-dev
  tzdata ca-certificates mosquitto mosquitto-clients python3
  nodejs
  libgmime-3.0-dev libzip-dev libpango1.0-dev libcairo2-dev fonts-noto-cjk
)
# ... and what only the tests and benchmarks use (a newcomer's demo skips them).
CAMPAIGN_TEST_PACKAGES=(
  sqlite3 openssl python3-paho-mqtt procps clang libclang-rt-14-dev
  python3-websockets python3-cryptography
  python3-jsonschema chromium fonts-noto-cjk python3-feedparser rabbitmq-server
  cmark
  lintian dpkg-dev file mandoc systemd
  dovecot-imapd python3-aiosmtpd python3-docx poppler-utils
)
# npm runs the official DingTalk SDK check; NodeSource's nodejs already provides it.
command -v npm >/dev/null 2>&1 || CAMPAIGN_TEST_PACKAGES+=(npm)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs only what is missing, so a prepared machine starts in a second.
ensure_packages() {
  local missing=() p
  for p in "${CAMPAIGN_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  # The board's build runs npm ci; a nodejs from elsewhere (NodeSource) brings its own npm.
  command -v npm >/dev/null || missing+=(npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}

# build DIR [cmake options...]: configure once, then build with every core.
build() {
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
}

# The same, quiet unless it fails (then the whole output, for the error).
build_quietly() {
  local log
  log=$(mktemp)
  if ! build "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}
