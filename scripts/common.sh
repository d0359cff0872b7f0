# Shared by the scripts (sourced, not run): messages tagged with the script's
# $log_tag, and installing Debian packages as root.

say() { printf '[kinterp %s] %s\n' "$log_tag" "$*"; }
die() { printf '[kinterp %s] error: %s\n' "$log_tag" "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "'$*' needs root: run this script as root or install sudo"
  fi
}

# Installs the Debian packages named (apt-get, without recommends).
install_packages() {
  say "installing $*"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
