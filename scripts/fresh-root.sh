#!/usr/bin/env bash
# fresh-root.sh [--shared DIR] [--] COMMAND
#
# Runs COMMAND in a fresh Debian 12 (bookworm) root holding a clone of this checkout's
# committed HEAD, as a new user's machine would: debootstrap's minimal system plus git, make
# and ca-certificates, and nothing else. A package installed by hand on the machine that
# runs this cannot hide a missing install step (a fresh root once showed that libmnl-dev
# was missing from scripts/install-deps.sh while every used machine had it).
#
# The pristine root is made once and cached in $FRESH_BASE (default
# /var/tmp/chaosdrill-fresh-bookworm); each run gets its own overlay on it, thrown away
# after. The clone sits at /root/w/chaosdrill, with DIR (e.g. ../shared, which the tests
# read the JUnit schema from) copied beside it as /root/w/shared. The root is entered with
# pivot_root in a private mount namespace, as a container runtime does: a setns() into a
# mount namespace (the lab does that) would escape a plain chroot.
#
# Needs root, overlayfs and debootstrap (installed if missing). Exit code is COMMAND's.
# Example: scripts/fresh-root.sh --shared ../shared -- 'make demo && make test'
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'; }
shared=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --shared) shared=$(cd "${2:?--shared needs a directory}" && pwd); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "fresh-root: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { usage >&2; exit 2; }
cmd=$*
[[ $(id -u) -eq 0 ]] || { echo "fresh-root: needs root (debootstrap, mounts, pivot_root)" >&2; exit 3; }
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
base=${FRESH_BASE:-/var/tmp/chaosdrill-fresh-bookworm}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}

if [[ ! -f $base/.ready ]]; then
  if ! command -v debootstrap >/dev/null; then
    echo "fresh-root: installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
  fi
  echo "fresh-root: making a minimal Debian 12 root in $base (once; cached)"
  rm -rf "$base"
  debootstrap --variant=minbase --include=git,make,ca-certificates bookworm "$base" "$mirror" >/dev/null
  # the archive sections a stock bookworm machine has
  printf '%s\n' "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >"$base/etc/apt/sources.list"
  touch "$base/.ready"
fi

work=$(mktemp -d /var/tmp/chaosdrill-fresh-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{upper,work,root}
git clone -q "$repo" "$work/clone"
echo "fresh-root: $(git -C "$work/clone" log -1 --format='%h %s') in a fresh root; running: $cmd"
export work base shared cmd
unshare -m --propagation private bash -euo pipefail -c '
  r=$work/root
  mount -t overlay overlay -o lowerdir=$base,upperdir=$work/upper,workdir=$work/work $r
  mount --bind $r $r
  mount -t proc proc $r/proc
  mount --rbind /sys $r/sys
  mount --rbind /dev $r/dev
  mount -t tmpfs tmpfs $r/run
  mount -t tmpfs tmpfs $r/tmp
  cp /etc/resolv.conf $r/etc/resolv.conf
  mkdir -p $r/root/w
  mv $work/clone $r/root/w/chaosdrill
  if [[ -n $shared ]]; then cp -a $shared $r/root/w/shared; fi
  mkdir -p $r/.oldroot
  cd $r && pivot_root . .oldroot
  umount -l /.oldroot && rmdir /.oldroot
  exec /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb CI=${CI:-} bash -c "cd /root/w/chaosdrill &&
      echo \"fresh-root: inside: Debian \$(cat /etc/debian_version), \$(dpkg-query -f . -W | wc -c) packages\" &&
      $cmd"
'
