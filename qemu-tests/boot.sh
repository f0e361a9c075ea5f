#!/usr/bin/env bash
# The running kernel is ours, IPVS loads, and Debian's ipvsadm can add and list a service.
# It runs none of our kernel code:
# boot-test: user-space
. "$(dirname "$0")/lib/common.sh"

expect_eq "the kernel is the one built (release from its build tree)" "$(uname -r)" "${VM_KERNEL_RELEASE:-unknown}"
expect "its release names the flavour" grep -q -- "-ipvs-pe-sip-\(test\|perf\)$" <<<"$(uname -r)"
expect "ip_vs loads" modprobe ip_vs
expect "ip_vs is listed in /proc/modules" grep -q '^ip_vs ' /proc/modules

ns=boot$$
ip netns add "$ns"
expect "ipvsadm adds a UDP service" ip netns exec "$ns" ipvsadm -A -u 10.9.0.1:5060 -s rr
expect "ipvsadm adds a real server" ip netns exec "$ns" ipvsadm -a -u 10.9.0.1:5060 -r 10.9.1.1:5060 -m
listing=$(ip netns exec "$ns" ipvsadm -Ln)
expect "the service is listed" grep -q '^UDP  10.9.0.1:5060 rr$' <<<"$listing"
expect "the real server is listed" grep -qE '^  -> 10.9.1.1:5060 +Masq +1 +0 +0 *$' <<<"$listing" ||
  cat -A <<<"$listing"
ip netns del "$ns"
finish
