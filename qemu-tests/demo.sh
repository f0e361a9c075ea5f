#!/usr/bin/env bash
# The demo: SIP calls from one proxy address and port, balanced by Call-ID over three SIP
# servers by our engine, compared with plain IPVS persistence.
. "$(dirname "$0")/lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
ADM=ipvsadm-rs
$ADM --version >/dev/null 2>&1 || ADM=ipvsadm
calls=${DEMO_CALLS:-60}

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { echo "# $*"; "$@"; }

say "Kernel $(uname -r); loading the Rust engine"
run modprobe ip_vs_pe_sip_rs
dmesg | grep 'ip_vs_pe_sip_rs' | tail -1

topo_up
say "A SIP service on the director: one-packet scheduling, persistence mask 0.0.0.0, --pe sip"
run in_dir $ADM -A -u "$VIP:5060" -s rr -p 60 -M 0.0.0.0 -o --pe sip
for ip in "${RS_IPS[@]}"; do run in_dir $ADM -a -u "$VIP:5060" -r "$ip:5060" -m; done
run in_dir $ADM -Ln

sip_servers_up
say "$calls SIP calls (INVITE, 200, ACK, BYE, 200) from $CLI_IP:5060, as a SIP proxy sends them"
sip_calls "$calls" 10
# Right after the calls: a template lives 60 s (-p 60) after its call's last message.
say "The director's persistence templates, keyed by Call-ID"
in_dir $ADM -Lcn --persistent-conn | head -8
say "Where each call went, from the SIP servers' own message logs"
sip_report
expect "every call succeeded" [ "$(sip_stat FailedCall)" = 0 ]
expect "no call was split over servers" [ "$SPLIT" = 0 ]
expect "calls spread over all three servers" [ "${PER_SERVER[1]}" -gt 0 -a "${PER_SERVER[2]}" -gt 0 -a "${PER_SERVER[3]}" -gt 0 ]

say "The engine's counters"
# Per network namespace (the director's); the global sysfs files are transitional.
in_dir cat /proc/net/ip_vs_pe_sip_stats 2>/dev/null ||
  grep . /sys/module/ip_vs_pe_sip_rs/stats/* | sed 's|.*/stats/| |; s|:| |'
sip_servers_down

say "Without --pe sip: plain persistence pins every call of the proxy to one server"
topo_up
in_dir $ADM -A -u "$VIP:5060" -s rr -p 60 -M 0.0.0.0 -o
for ip in "${RS_IPS[@]}"; do in_dir $ADM -a -u "$VIP:5060" -r "$ip:5060" -m; done
sip_servers_up
sip_calls "$calls" 10
sip_report
sip_servers_down
topo_down
finish
