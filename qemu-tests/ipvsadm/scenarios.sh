# Scenarios for compare.sh (sourced). Each `scenario_NAME` runs ipvsadm commands through
# `run ARGS...` or `run_stdin FILE ARGS...`; compare.sh runs it once per implementation in
# a fresh network namespace (see ONE_NAMESPACE for the exception) and diffs the logs. Addresses are private test addresses that
# exist only inside these namespaces.
# shellcheck shell=bash disable=SC2317

scenario_empty_table() {
  run
  run -L
  run -Ln
  run -l -n
  run -S
  run -Sn
  run -L --timeout
  run -L --daemon
  run -Lc
  run -Lcn --persistent-conn
  run -L --stats
  run -L --rate --exact
  run -Z
  run -C
}

scenario_help_and_version() {
  run_ipvsadm_part -h
  run_ipvsadm_part --help
  run -v
  run --version
}

scenario_tcp_service() {
  run -A -t 10.1.0.1:80
  run -A -t 10.1.0.1:80
  run -A -t 10.1.0.1:http -s rr
  run -A --tcp-service 10.1.0.2:8080 --scheduler wrr
  run -Ln
  run -L -n -t 10.1.0.1:80
  run -L -t 10.1.0.9:80 -n
  run -Sn
  run -S
  run -L
}

scenario_udp_sctp_services() {
  run -A -u 10.1.0.1:53 -s rr
  run -A --udp-service 10.1.0.1:5060 -s lc
  run -A --sctp-service 10.1.0.1:9000 -s wrr
  run -A --sctp-service 10.1.0.1:2905
  run -Ln
  run -L --sctp-service 10.1.0.1:9000 -n
  run -Sn
}

scenario_fwmark_services() {
  run -A -f 1 -s lc
  run -A -f 2 -6 -s sh -p 120 -M 64
  run -A -f 3 -p
  run -A -f 0
  run -A -f -5
  run -A -f abc
  run -A -f 2147483647
  run -Ln
  run -L -f 1 -n
  run -L -f 2 -6 -n
  run -Sn
  run -a -f 1 -r 10.1.1.1:8080 -m
  run -a -f 1 -r 10.1.1.2 -g -w 3
  run -a -f 2 -6 -r '[2001:db8::10]:80' -m
  run -Ln
  run -L
}

scenario_persistence() {
  run -A -t 10.1.0.1:0 -p
  run -A -t 10.1.0.2:443 -p 600 -M 255.255.255.0
  run -A -t 10.1.0.3:443 --persistent 1 --netmask 255.255.0.0
  run -A -t 10.1.0.4:443 -p 2678400
  run -A -t 10.1.0.5:443 -p 2678401
  run -A -t 10.1.0.5:443 -p 0
  run -A -t 10.1.0.5:443 -p -1
  run -A -t 10.1.0.5:443 -p 60 -M 300.1.1.1
  run -A -t 10.1.0.6:443 -p 60 -M 255.255.255.255
  run -A -t 10.1.0.7:0
  run -A -u 10.1.0.8:5060 -p 60 -M 0.0.0.0 -o
  run -A -t '[2001:db8::1]:443' -p 60 -M 64
  run -A -t '[2001:db8::2]:443' -p 60 -M 129
  run -Ln
  run -Sn
}

scenario_persistence_engine() {
  run -A -u 10.1.0.1:5060 -p 60 -M 0.0.0.0 -o --pe sip
  run -A -u 10.1.0.2:5060 --pe sip
  run -A -u 10.1.0.3:5060 --pe nosuchengine
  run -Ln
  run -Sn
  run -E -u 10.1.0.1:5060 -p 60 -M 0.0.0.0 -o
  run -Ln
  run -E -u 10.1.0.1:5060 -p 90 --pe sip
  run -Ln
  run -E -u 10.1.0.2:5060 -s rr
  run -Sn
}

scenario_edit_service() {
  run -A -t 10.1.0.1:80 -s wlc
  run -E -t 10.1.0.1:80 -s rr -p 30
  run -Ln
  run -E -t 10.1.0.1:80
  run -Ln
  run -E -t 10.1.0.2:80 -s rr
  run -E -t 10.1.0.1:80 -s nosuchsched
  run -E -u 10.1.0.1:80
  run -Ln
}

scenario_schedulers() {
  local s i=1
  for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos nosuch; do
    run -A -t "10.2.0.$i:80" -s "$s"
    i=$((i + 1))
  done
  run -A -t 10.2.1.1:80 -s averyveryverylongschedulername
  run -Ln
  run -Sn
}

scenario_sched_flags() {
  run -A -t 10.2.0.1:80 -s sh -b sh-fallback,sh-port
  run -A -t 10.2.0.2:80 -s sh -b sh-port
  run -A -t 10.2.0.3:80 -s mh -b mh-port,mh-fallback
  run -A -t 10.2.0.4:80 -s rr -b flag-1,flag-2,flag-3
  run -A -t 10.2.0.5:80 -b flag-2
  run -A -t 10.2.0.6:80 -s rr -b sh-port
  run -A -t 10.2.0.7:80 -s sh -b mh-port
  run -A -t 10.2.0.8:80 -s rr -b bogus
  run -A -t 10.2.0.9:80 -s sh --sched-flags sh-fallback
  run -A -t 10.2.0.10:80 -s sh -b flag-3
  run -Ln
  run -Sn
  run -E -t 10.2.0.1:80 -s sh -b sh-port
  run -Ln
}

scenario_real_servers() {
  run -A -t 10.3.0.1:80 -s wlc
  run -a -t 10.3.0.1:80 -r 10.3.1.1:8080 -m
  run -a -t 10.3.0.1:80 -r 10.3.1.2 -g -w 5
  run -a -t 10.3.0.1:80 -r 10.3.1.3:80 -i -w 0
  run -a -t 10.3.0.1:80 -r 10.3.1.4:8081 -m -w 2 -x 100 -y 10
  run -a -t 10.3.0.1:80 --real-server 10.3.1.5:http --masquerading --weight 7 --u-threshold 1000 --l-threshold 500
  run -a -t 10.3.0.1:80 -r 10.3.1.1:8080 -m
  run -a -t 10.3.0.2:80 -r 10.3.1.1:8080 -m
  run -a -t 10.3.0.1:80 -r 10.3.1.6 -w 2147483647
  run -a -t 10.3.0.1:80 -r 10.3.1.7 -w 2147483648
  run -a -t 10.3.0.1:80 -r 10.3.1.7 -w -1
  run -a -t 10.3.0.1:80 -r 10.3.1.7 -x abc
  run -Ln
  run -L -n --thresholds
  run -L -n --persistent-conn
  run -L -n --stats
  run -L -n --stats --exact
  run -L -n --rate
  run -L -n --tun-info
  run -L -n --nosort
  run -Sn
  run -e -t 10.3.0.1:80 -r 10.3.1.1:8080 -m -w 9
  run -e -t 10.3.0.1:80 -r 10.3.1.2 -g -w 0 -x 5 -y 1
  run -e -t 10.3.0.1:80 -r 10.3.1.99 -m
  run -e -t 10.3.0.9:80 -r 10.3.1.1 -m
  run -Ln
  run -d -t 10.3.0.1:80 -r 10.3.1.3
  run -d -t 10.3.0.1:80 -r 10.3.1.3
  run -d -t 10.3.0.9:80 -r 10.3.1.3
  run -d -t 10.3.0.1:80 -r 10.3.1.1:8080
  run -Ln
}

scenario_tunnels() {
  run -A -t 10.4.0.1:80
  run -a -t 10.4.0.1:80 -r 10.4.1.1 -i
  run -a -t 10.4.0.1:80 -r 10.4.1.2 -i --tun-type ipip
  run -a -t 10.4.0.1:80 -r 10.4.1.3 -i --tun-type gue --tun-port 6080
  run -a -t 10.4.0.1:80 -r 10.4.1.4 -i --tun-type gue --tun-port 6081 --tun-csum
  run -a -t 10.4.0.1:80 -r 10.4.1.5 -i --tun-type gue --tun-port 6082 --tun-remcsum
  run -a -t 10.4.0.1:80 -r 10.4.1.6 -i --tun-type gue --tun-port 6083 --tun-nocsum
  run -a -t 10.4.0.1:80 -r 10.4.1.7 -i --tun-type gre
  run -a -t 10.4.0.1:80 -r 10.4.1.8 -i --tun-type gre --tun-csum
  run -a -t 10.4.0.1:80 -r 10.4.1.9 -i --tun-type gre --tun-remcsum
  run -a -t 10.4.0.1:80 -r 10.4.1.9 -i --tun-type gue
  run -a -t 10.4.0.1:80 -r 10.4.1.9 -i --tun-type ipip --tun-port 5
  run -a -t 10.4.0.1:80 -r 10.4.1.9 -i --tun-type gue --tun-port 6 --tun-csum --tun-remcsum
  run -a -t 10.4.0.1:80 -r 10.4.1.9 -m --tun-type gre
  run -a -t 10.4.0.1:80 -r 10.4.1.9 -i --tun-type vxlan
  run -a -t 10.4.0.1:80 -r 10.4.1.9 -i --tun-type gue --tun-port 0
  run -Ln
  run -L -n --tun-info
  run -Sn
  run -e -t 10.4.0.1:80 -r 10.4.1.3 -i --tun-type gre --tun-csum
  run -L -n --tun-info
}

scenario_ipv6() {
  run -A -t '[2001:db8::1]:80' -s rr
  run -A -u '[2001:db8::1]:53'
  run -A -t 2001:db8::2 -p
  run -A -t '[2001:db8::3]80'
  run -A -t [2001:db8::4
  run -a -t '[2001:db8::1]:80' -r '[2001:db8:1::1]:8080' -m
  run -a -t '[2001:db8::1]:80' -r '[2001:db8:1::2]' -g -w 3
  run -a -t '[2001:db8::1]:80' -r 10.5.0.1 -i
  run -a -t '[2001:db8::1]:80' -r 10.5.0.2 -m
  run -A -t 10.5.1.1:80
  run -a -t 10.5.1.1:80 -r '[2001:db8:1::3]' -i
  run -a -t 10.5.1.1:80 -r '[2001:db8:1::4]:80' -m
  run -Ln
  run -L -n --tun-info
  run -L -n -t '[2001:db8::1]:80'
  run -Sn
  run -d -t '[2001:db8::1]:80' -r '[2001:db8:1::2]'
  run -D -t '[2001:db8::1]:80'
  run -Ln
}

scenario_zero_delete_clear() {
  run -A -t 10.6.0.1:80
  run -A -u 10.6.0.1:80
  run -A -f 9
  run -a -t 10.6.0.1:80 -r 10.6.1.1 -g
  run -Z
  run -Z -t 10.6.0.1:80
  run -Z -f 9
  run -Z -t 10.6.0.2:80
  run -Z -f 10
  run -D -t 10.6.0.1:80
  run -D -t 10.6.0.1:80
  run -D -f 9
  run -Ln
  run -C
  run -Ln
  run -C
}

scenario_timeouts() {
  run -L --timeout
  run --set 900 120 300
  run -L --timeout
  run --set 0 0 0
  run -L --timeout
  run --set 1 0 2678400
  run -L --timeout
  run --set 1 2
  run --set a b c
  run --set 1 2 3 4
  run --set 1 2 2678401
  run --set -- 1 2 -3
  run -L -n --timeout
}

scenario_daemons() {
  run -L --daemon
  run --start-daemon master --mcast-interface lo
  run -L --daemon
  run --start-daemon master --mcast-interface lo
  run --start-daemon backup --mcast-interface lo --syncid 7
  run -L --daemon
  run --stop-daemon master
  run --stop-daemon master
  run --stop-daemon backup
  run --start-daemon master --mcast-interface lo --syncid 3 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 4
  run -L --daemon
  run --stop-daemon master
  run --start-daemon backup --mcast-interface lo --mcast-group ff02::81 --mcast-port 8849
  run -L --daemon
  run --stop-daemon backup
  run --start-daemon master --mcast-interface nosuchif0
  run --start-daemon master --mcast-group 10.0.0.1
  run --start-daemon master --mcast-group fe80::1
  run --start-daemon master --mcast-port 0
  run --start-daemon master --mcast-ttl 256
  run --start-daemon master --sync-maxlen 65508
  run --start-daemon master --syncid 256
  run --start-daemon bogus
  run --stop-daemon bogus
  run --stop-daemon master --mcast-interface lo
  run -L --daemon
}

# Files of a run go in a directory of their own (the two implementations run at once) and
# keep the same names, which the logs show.
run_dir() { local d=$SCENARIO_DATA/run.$$; mkdir -p "$d"; echo "$d"; }

scenario_save_restore() {
  local f
  f=$(run_dir)/rules
  cat >"$f" <<'RULES'
-A -t 10.7.0.1:80 -s rr
-a -t 10.7.0.1:80 -r 10.7.1.1:80 -g -w 1
-a -t 10.7.0.1:80 -r 10.7.1.2:8080 -m -w 3

ipvsadm -A -u 10.7.0.2:5060 -s sh -p 60 -M 0.0.0.0 -b sh-port
ipvsadm -a -u 10.7.0.2:5060 -r 10.7.1.3:5060 -m -w 1
-A -f 5 -6 -s lc
-A -t [2001:db8::7]:443 -s wlc -p 300 -M 64
-a -t [2001:db8::7]:443 -r [2001:db8:1::7]:443 -m -w 2
	-A	-t 10.7.0.3:22   -s wrr  
RULES
  run_stdin "$f" -R
  run -Ln
  run -Sn
  run -Sn --nosort
  local saved
  saved=$(run_dir)/saved
  ipvsadm -Sn >"$saved"
  run -C
  run_stdin "$saved" -R
  run -Sn
  run_stdin "$saved" --restore
  run -Ln
}

scenario_restore_errors() {
  local f
  f=$(run_dir)/bad
  printf '%s\n' "-A -t 10.8.0.1:80" "-A -t 10.8.0.1:80" "-a -t 10.8.0.9:80 -r 10.8.1.1" \
    "-A -t 10.8.0.2:80" >"$f"
  run_stdin "$f" -R
  run -Ln
  run -C
  printf '%s\n' "-A -t 10.8.0.1:80" "-A -t 10.8.0.1:80" >"$f"
  run_stdin "$f" -R
  run -C
  printf '%s\n' "-A -t 10.8.0.1:80" "-A -t 10.8.0.3" "-A -t 10.8.0.4:80" >"$f"
  run_stdin "$f" -R
  run -C
  printf '%s\n' "-A -t 10.8.0.1:80" "# a comment" "-A -t 10.8.0.4:80" >"$f"
  run_stdin "$f" -R
  run -C
  printf '%s\n' "-A -t 10.8.0.1:80" "-R" "-A -t 10.8.0.4:80" >"$f"
  run_stdin "$f" -R
  run -C
  printf '%s\n' "-A -t 10.8.0.1:80" "-Ln" "--bogus" "-A -t 10.8.0.5:80" >"$f"
  run_stdin "$f" -R
  run -C
  printf '' >"$f"
  run_stdin "$f" -R
  printf '%s' "-A -t 10.8.0.6:80" >"$f"
  run_stdin "$f" -R
  run -R -n
}

# Scenarios whose listings depend on the order in which the kernel lists services. IPVS
# hashes a service together with its namespace's address (ip_vs_svc_hashkey), so two
# namespaces list one table in two orders, and ipvsadm's sort does not undo that when its
# comparator is no order (addresses 2^31 apart: it subtracts them into an int). compare.sh
# runs both tools in one namespace for these, one after the other, clearing the services
# between; so they may leave nothing else behind (no timeouts, no daemons).
# shellcheck disable=SC2034 # read by compare.sh
ONE_NAMESPACE=(sorting)

scenario_sorting() {
  local a
  for a in 192.168.1.1 10.9.0.1 1.2.3.4 200.1.1.1 10.9.0.1:81 127.0.0.2 255.255.255.254 0.0.0.1 128.0.0.1 127.255.255.255; do
    case $a in *:*) run -A -t "$a" ;; *) run -A -t "$a:80" ;; esac
  done
  run -A -u 10.9.0.1:80
  run -A -f 100
  run -A -f 7
  run -A -t '[2001:db8::1]:80'
  run -A -t '[fe80::1]:80'
  run -A -t '[::1]:80'
  for a in 192.168.2.1 10.9.2.1 1.1.1.1 200.1.1.2 129.0.0.1 10.9.2.1:90 250.0.0.1; do
    case $a in *:*) run -a -t 10.9.0.1:80 -r "$a" -m ;; *) run -a -t 10.9.0.1:80 -r "$a:80" -m ;; esac
  done
  run -Ln
  run -Sn
}

scenario_names() {
  run -A -t 127.0.0.1:80
  run -A -t localhost:https -s rr
  run -A -u 127.0.0.1:domain
  run -A --sctp-service 127.0.0.1:9000
  run -A -t localhost:nosuchservice
  run -A -t no-such-host.invalid:80
  run -A -t 127.0.0.1:65536
  run -A -t 127.0.0.1:-1
  run -a -t 127.0.0.1:80 -r localhost:8080 -m
  run -a -t 127.0.0.1:80 -r 127.0.0.2:ssh -m
  run -A -t 127.0.0.3:80 -p 10 -M localhost
  run -A -t 0x7f000004:80
  run -A -t 127.5:80
  run -L
  run -S
  run -L -t localhost:http
  run -L --stats
  run -Ln
  run -Sn
}

scenario_cli_errors() {
  run -n -L
  run -t 10.0.0.1:80 -A
  run foo
  run -L foo
  run -L --bogus
  run -L -A
  run -L -h
  run -A
  run -A -t
  run -A -t 10.0.0.1:80 -r 10.0.0.2
  run -A -t 10.0.0.1:80 -t 10.0.0.2:80
  run -A -t 10.0.0.1
  run -A -t 10.0.0.1:80 -o
  run -A -t 10.0.0.1:80 -w 1
  run -A -6 -f 1
  run -A -t 10.0.0.1:80 -6
  run -A -t 300.0.0.1:80
  run -A -t 12345
  run -A -t :80
  run -A -t 10.0.0.1:
  run -a -t 10.0.0.1:80
  run -a -t 10.0.0.1:80 -r
  run -a -t 10.0.0.1:80 -r 10.0.0.2 -m -g
  run -d -t 10.0.0.1:80 -r 10.0.0.2 -w 3
  run -D -t 10.0.0.1:80 -s rr
  run -C -n
  run -C foo
  run -L -c --timeout
  run -L -c --stats
  run -L --daemon --persistent-conn
  run -L --timeout --daemon
  run -L -t 10.0.0.1:80 -c
  run -L -n -n
  run -L --stats --stats
  run -L -s rr
  run -S -c
  run -Z -n
  run -R foo
  run --set
  run --start-daemon
  run -E
  run -e -t 10.0.0.1:80
  run -L --nosort --sort --sort
  run --list=x
  run -L=
  run -Ln -x
  run -A -t 10.0.0.1:80 -s
  run -A -t 10.0.0.1:80 -p 30 -p 40
  run -Lnc -t 10.0.0.1:80
  run -
  run --
  run -L -- -n
}

scenario_connections_empty() {
  run -A -u 10.10.0.1:5060 -p 60 -M 0.0.0.0 -o --pe sip
  run -Lc
  run -Lcn
  run -Lcn --persistent-conn
  run -L -c -n --persistent-conn --nosort
}
