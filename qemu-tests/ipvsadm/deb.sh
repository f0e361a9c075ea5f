#!/usr/bin/env bash
# The Debian package of ipvsadm-rs (`make deb`, scripts/deb) installs and works: dpkg
# installs it into a scratch root, lists what it installed, and the installed binary
# manages IPVS on this kernel (no custom kernel needed), with its man page and shell
# completions where each belongs.
#
# The scratch root: the guest's / is the host's filesystem (read-only over 9p, with
# overlays), so the package must not be installed there. `dpkg --root=DIR` installs into DIR
# with its own, fresh database (DIR/var/lib/dpkg), as on a real machine but for one thing:
# that database lists no other package, so the dependency on libc6 (the host's, which the
# binary uses) cannot be met in it, and --force-depends is given for that alone.
#
# qemu-tests/run builds the package (scripts/deb --no-build) before the guests boot, for
# the tests that say they need it:
# boot-test: deb
# It runs none of our kernel code:
# boot-test: user-space
. "$(dirname "$0")/../lib/common.sh"

# The newest package scripts/deb made (an older version may lie beside it).
deb=
for f in "${CARGO_TARGET_DIR:-$ROOT/target}"/debian/ipvsadm-rs_*.deb; do
  [[ -e $f && ( -z $deb || $f -nt $deb ) ]] && deb=$f
done
if ! expect "the package was built (scripts/deb)" test -s "$deb"; then
  finish
  exit 1
fi
echo "  package: $deb"
root=$(mktemp -d /tmp/deb-root.XXXXXX)
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log"
: >"$root/var/lib/dpkg/status"
# dpkg_root ARGS...: dpkg on the scratch root.
dpkg_root() { dpkg --root="$root" "$@"; }
# installed FILE: dpkg -L lists FILE (a path on the target system), and it is in the root.
installed() { grep -qx "$1" <<<"$listed" && test -s "$root$1"; }
# man_mentions PAGE WORD: man formats PAGE, and WORD is in the text.
man_mentions() { MANWIDTH=100 man -l "$1" 2>/dev/null | grep -q -- "$2"; }
# bash_completes FILE: bash loads the completion FILE, which binds one to ipvsadm-rs.
bash_completes() { bash -c '. "$0" && complete -p ipvsadm-rs' "$1"; }
# gone FILE...: none of the files exists.
gone() { local f; for f; do [[ ! -e $f ]] || return 1; done; }

expect "dpkg installs it into the scratch root" dpkg_root --force-depends -i "$deb"
expect_eq "dpkg knows it installed" \
  "$(dpkg_root -s ipvsadm-rs 2>/dev/null | sed -n 's/^Status: //p')" "install ok installed"
listed=$(dpkg_root -L ipvsadm-rs)
rs=$root/usr/sbin/ipvsadm-rs
man8=/usr/share/man/man8/ipvsadm-rs.8.gz
bash_c=/usr/share/bash-completion/completions/ipvsadm-rs
zsh_c=/usr/share/zsh/vendor-completions/_ipvsadm-rs
fish_c=/usr/share/fish/vendor_completions.d/ipvsadm-rs.fish
# The refresh of node_exporter's textfile (docs/ipvsadm-rs.md), shipped disabled.
units=(/lib/systemd/system/ipvsadm-rs-pe-stats.service /lib/systemd/system/ipvsadm-rs-pe-stats.timer)
for f in /usr/sbin/ipvsadm-rs "$man8" "$bash_c" "$zsh_c" "$fish_c" "${units[@]}"; do
  expect "dpkg -L lists $f, and it is there" installed "$f"
done
expect "the binary is executable" test -x "$rs"

# The documents are the installed binary's own, and usable.
expect "the man page is what the binary generates (--man)" \
  cmp <(zcat "$root$man8") <("$rs" --man)
expect "man formats it, and it documents --pe-stats" man_mentions "$root$man8" --pe-stats
expect "bash loads the completion and binds it to ipvsadm-rs" bash_completes "$root$bash_c"
expect "the zsh completion is a compdef for ipvsadm-rs" grep -qx '#compdef ipvsadm-rs' "$root$zsh_c"
expect "the fish completion completes ipvsadm-rs" grep -q '^complete -c ipvsadm-rs ' "$root$fish_c"

# The installed binary against this kernel's IPVS, beside Debian's ipvsadm.
expect "ip_vs loads" modprobe ip_vs
ns=deb$$
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
expect "-A adds a UDP service" in_ns "$rs" -A -u 10.9.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o
expect "-a adds a real server" in_ns "$rs" -a -u 10.9.0.1:5060 -r 10.9.1.1:5060 -m -w 2
listing=$(in_ns "$rs" -Ln)
printf '%s\n' "$listing" | sed 's/^/    | /'
expect "-Ln lists the service" grep -q '^UDP  10.9.0.1:5060 rr persistent 60 mask 0.0.0.0 ops$' \
  <<<"$listing"
expect "-Ln lists the real server" grep -qE '^  -> 10.9.1.1:5060 +Masq +2 +0 +0 *$' <<<"$listing"
expect_eq "Debian's ipvsadm lists the same" "$(in_ns ipvsadm -Ln)" "$listing"
err=$(in_ns "$rs" -a -u 10.9.0.2:5060 -r 10.9.1.1:5060 -m 2>&1)
rc=$?
expect_eq "a server for a missing service: ipvsadm's status (255)" "$rc" 255
expect_eq "ipvsadm's message first" "$(head -1 <<<"$err")" "Service not defined"
expect "then the service named" grep -q '^  service -u 10.9.0.2:5060 is not in' <<<"$err"
in_ns "$rs" --pe-stats >/dev/null 2>&1
expect_eq "--pe-stats without an engine loaded: status 3" "$?" 3
ip netns del "$ns"

expect "dpkg removes it" dpkg_root -r ipvsadm-rs
expect "and its files are gone" gone "$rs" "$root$man8" "$root$bash_c"
rm -rf "$root"
finish
