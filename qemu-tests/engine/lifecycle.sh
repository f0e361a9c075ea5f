#!/usr/bin/env bash
# The module's life: load and unload, refusal while the C engine is loaded, refusal to
# unload while a service uses it, autoload by `--pe sip`, and a Call-ID in /proc.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/engine/lib.bash"

mod_loaded() { grep -q "^$1 " /proc/modules; }

root_stat() { awk -v n="$1" '$1 == n { print $2 }' /proc/net/ip_vs_pe_sip_stats; }
param=/sys/module/ip_vs_pe_sip_rs/parameters/drop_without_callid

expect "modprobe ip_vs_pe_sip_rs" modprobe ip_vs_pe_sip_rs
expect "the module registered engine sip" grep -q 'persistence engine "sip" registered' <(dmesg)
expect "its counters exist in the root namespace and start at 0" [ "$(root_stat examined)" = 0 ]
expect_eq "one 'NAME VALUE' line per counter, in the documented order" \
  "$(cut -d' ' -f1 /proc/net/ip_vs_pe_sip_stats | tr '\n' ' ')" \
  "examined found not_udp fragment no_payload no_callid too_long bad_terminator alloc_failed dropped "
expect_eq "the file is read-only for everyone" "$(command stat -c %a /proc/net/ip_vs_pe_sip_stats)" 444
expect_eq "parameter drop_without_callid is visible and off by default" "$(cat $param)" N
expect "rmmod ip_vs_pe_sip_rs" rmmod ip_vs_pe_sip_rs
expect_fail "the counters are gone after unload" test -e /proc/net/ip_vs_pe_sip_stats
expect "modprobe ip_vs_pe_sip_rs drop_without_callid=1" modprobe ip_vs_pe_sip_rs drop_without_callid=1
expect_eq "the parameter reads Y" "$(cat $param)" Y
expect "it can be changed at run time" sh -c "echo 0 > $param"
expect_eq "and then reads N" "$(cat $param)" N
expect "rmmod ip_vs_pe_sip_rs" rmmod ip_vs_pe_sip_rs
cycles=0
for _ in 1 2 3 4 5; do
  if ! { modprobe ip_vs_pe_sip_rs && rmmod ip_vs_pe_sip_rs; }; then break; fi
  cycles=$((cycles + 1))
done
expect_eq "five more load/unload cycles" "$cycles" 5
expect_fail "the module is not left loaded" mod_loaded ip_vs_pe_sip_rs

# Only one engine named "sip" can exist: loading ours next to the C one fails cleanly.
expect "the kernel's C engine loads" modprobe ip_vs_pe_sip
expect_fail "ours refuses to load beside it" modprobe ip_vs_pe_sip_rs
expect "with a clear log line" grep -q 'cannot register persistence engine "sip": an engine of that name.*already registered' <(dmesg)
expect_fail "and is not left loaded" mod_loaded ip_vs_pe_sip_rs
expect "the C engine unloads" rmmod ip_vs_pe_sip

topo_up
# Debian's ipvsadm makes a --pe sip service on our engine.
expect "modprobe ip_vs_pe_sip_rs" modprobe ip_vs_pe_sip_rs
expect "ipvsadm -A ... --pe sip" in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 60 -M 0.0.0.0 -o --pe sip
for ip in "${RS_IPS[@]}"; do in_dir ipvsadm -a -u "$VIP:5060" -r "$ip:5060" -m; done
expect "ipvsadm lists the engine" grep -q "persistent 60 mask 0.0.0.0 pe sip" <(in_dir ipvsadm -Ln)
expect_fail "rmmod is refused while a service uses the engine" rmmod ip_vs_pe_sip_rs
expect "the module is still loaded" mod_loaded ip_vs_pe_sip_rs

callid="lifecycle-1@client.test"
in_cli "$PY" "$ROOT/qemu-tests/lib/sipsend.py" "$CLI_IP" 5060 "$VIP" 5060 --callid "$callid" >/dev/null
listed() { in_dir grep -q " sip $callid\$" /proc/net/ip_vs_conn; }
expect "the Call-ID shows as 'sip <callid>' in /proc/net/ip_vs_conn" wait_for 120 listed
expect_eq "one datagram examined" "$(stat examined)" 1
expect_eq "one Call-ID found" "$(stat found)" 1
expect_eq "counted in the director's namespace only, not in the root namespace" "$(root_stat examined)" 0

expect "the service can be deleted" in_dir ipvsadm -D -u "$VIP:5060"
# Templates keep a reference to their engine until they expire or their namespace goes
# (namespaces are cleaned up asynchronously).
topo_down
for _ in $(seq 30); do rmmod ip_vs_pe_sip_rs 2>/dev/null && break; sleep 1; done
expect_fail "rmmod succeeds once no service uses the engine" mod_loaded ip_vs_pe_sip_rs

# With the C engine installed, `--pe sip` loads it: a module's name wins over another
# module's alias. An install line in modprobe.d makes ours the one that loads.
expect_eq "modprobe resolves ip_vs_pe_sip to the C module when it is installed" \
  "$(modprobe -R ip_vs_pe_sip)" ip_vs_pe_sip
topo_up
echo "install ip_vs_pe_sip /sbin/modprobe ip_vs_pe_sip_rs" >/etc/modprobe.d/ipvs-pe-sip-rs.conf
expect "with the install line, ipvsadm --pe sip autoloads ours" \
  in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 60 -o --pe sip
expect "ip_vs_pe_sip_rs is loaded" mod_loaded ip_vs_pe_sip_rs
expect_fail "and the C module is not" mod_loaded ip_vs_pe_sip
rm /etc/modprobe.d/ipvs-pe-sip-rs.conf
in_dir ipvsadm -C
topo_down
expect "our engine unloads" unload ip_vs_pe_sip_rs

# On a kernel without the C engine, `--pe sip` loads ours through its alias.
topo_up
# /lib/modules is the host's, read-only: hide the C engine in a writable copy.
m=/lib/modules/$(uname -r)
cp -a "$m/." /tmp/modules && mount --bind /tmp/modules "$m"
rm "$m/kernel/net/netfilter/ipvs/ip_vs_pe_sip.ko"
depmod -a
expect_eq "modprobe resolves ip_vs_pe_sip to our module" "$(modprobe -R ip_vs_pe_sip)" ip_vs_pe_sip_rs
expect "ipvsadm --pe sip autoloads it" in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 60 -o --pe sip
expect "ip_vs_pe_sip_rs is loaded" mod_loaded ip_vs_pe_sip_rs
in_dir ipvsadm -C
topo_down
umount "$m"
expect "the C engine is back in /lib/modules" test -e "$m/kernel/net/netfilter/ipvs/ip_vs_pe_sip.ko"
finish
