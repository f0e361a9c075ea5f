# Checks of ipvsadm-rs alone (sourced by compare.sh after the comparison): JSON listings,
# the explanations after ipvsadm's error messages, save/restore round trips, connection
# listings with SIP Call-IDs, and the section -h adds after ipvsadm's text.
# shellcheck shell=bash
# shellcheck disable=SC2154 # work, RS, REF, ROOT and OURS_HEADING are set by compare.sh, which sources this file

# in_ns NS CMD...: runs CMD in network namespace NS.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# The JSON listing parses and, rendered by an independent reader, gives the text listing of
# Debian's ipvsadm on the same table.
check_json() {
  local ns=json$$ rs=$RS cmd words
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
  local setup=(
    "-A -t 10.20.0.1:80 -s rr -p 30 -M 255.255.255.0"
    "-a -t 10.20.0.1:80 -r 10.20.1.1:8080 -m -w 3"
    "-a -t 10.20.0.1:80 -r 10.20.1.2 -g -w 0"
    "-A -u 10.20.0.2:5060 -s sh -b sh-port -o"
    "-A -f 12 -s wlc"
    "-A -t [2001:db8::20]:443 -s lc"
    "-a -t [2001:db8::20]:443 -r [2001:db8:1::20]:443 -m"
    "-a -t 10.20.0.1:80 -r 10.20.1.3 -i --tun-type gue --tun-port 6080 --tun-csum"
    "--set 100 20 30"
  )
  for cmd in "${setup[@]}"; do
    read -ra words <<<"$cmd" # split, not globbed
    expect "set-up: ipvsadm-rs $cmd" in_ns "$ns" "$rs" "${words[@]}"
  done
  in_ns "$ns" "$REF" -Ln >"$work/json.text"
  expect_eq "Debian's ipvsadm lists the 4 services and 4 real servers set up" \
    "$(grep -c '^[TUF]' "$work/json.text")/$(grep -c '^  -> [0-9[]' "$work/json.text")" 4/4
  in_ns "$ns" "$rs" -Ln --json >"$work/json.json"
  expect "-L --json parses and agrees with Debian's ipvsadm -Ln" python3 "$HERE/json_to_text.py" "$work/json.json" "$work/json.text"
  in_ns "$ns" "$rs" -L --timeout --json >"$work/t.json"
  expect "--timeout --json agrees with the text" python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["timeouts"]
assert (t["tcp"], t["tcp_fin"], t["udp"]) == (100, 20, 30), t' "$work/t.json"
  for opt in "-c" "-c --persistent-conn" "--daemon" "--stats" "--rate" "-t 10.20.0.1:80"; do
    # shellcheck disable=SC2086
    in_ns "$ns" "$rs" -L $opt --json >"$work/o.json"
    expect "-L $opt --json is valid JSON" python3 -m json.tool "$work/o.json"
  done
  expect "--json is refused outside listings" bash -c "! ip netns exec $ns $rs -C --json 2>/dev/null"
  ip netns del "$ns"
}

# ipvsadm-rs -R restores a table that Debian's ipvsadm -S saves as ipvsadm-rs -S does
# (numeric and with names), and restoring that save gives the same table again.
check_round_trip() {
  local ns=rt$$ rs=$RS opt
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
  {
    echo "-A -t 127.0.0.1:80 -s rr -p 300"
    echo "-a -t 127.0.0.1:80 -r 127.0.0.2:8080 -m -w 2"
    echo "-A -u 10.21.0.2:5060 -s sh -b sh-fallback -p 60 -M 0.0.0.0 -o"
    echo "-a -u 10.21.0.2:5060 -r 10.21.1.2:5060 -i --tun-type gue --tun-port 6080 --tun-remcsum -w 1"
    echo "-A -f 21 -6 -s mh -b mh-port"
    echo "-A -t [2001:db8::21]:443 -s wrr -p 10 -M 96"
    echo "-a -t [2001:db8::21]:443 -r 10.21.1.3 -i --tun-type gre --tun-csum -w 5"
  } >"$work/rt.rules"
  expect "ipvsadm-rs -R restores the rules" in_ns "$ns" "$rs" -R <"$work/rt.rules"
  in_ns "$ns" "$REF" -Sn >"$work/rt.ref"
  expect_eq "Debian's ipvsadm -Sn saves the 4 services and 3 real servers restored" \
    "$(grep -c '^-A' "$work/rt.ref")/$(grep -c '^-a' "$work/rt.ref")" 4/3
  for opt in -Sn -S; do
    in_ns "$ns" "$REF" "$opt" >"$work/rt.ref"
    in_ns "$ns" "$rs" "$opt" >"$work/rt.1"
    expect "ipvsadm-rs $opt saves what Debian's ipvsadm $opt saves" diff -u "$work/rt.ref" "$work/rt.1"
    expect "then -C" in_ns "$ns" "$rs" -C
    expect "and -R of that save" in_ns "$ns" "$rs" -R <"$work/rt.1"
    in_ns "$ns" "$REF" "$opt" >"$work/rt.2"
    expect "give the same table (Debian's ipvsadm $opt)" diff -u "$work/rt.ref" "$work/rt.2"
  done
  ip netns del "$ns"
}

# SIP templates with Call-IDs up to the 255 bytes the kernel keeps, listed by -Lc.
# The kernel's C engine makes them: every kernel of ours builds it (kernel/config/base.config).
check_sip_callids() {
  expect "the kernel's C engine loads (modprobe ip_vs_pe_sip)" modprobe ip_vs_pe_sip || return 1
  local lvs=sipl$$ cli=sipc$$ rs=$RS
  ip netns add "$lvs"; ip netns add "$cli"
  ip link add veth-l type veth peer name veth-c
  ip link set veth-l netns "$lvs"; ip link set veth-c netns "$cli"
  in_ns "$lvs" ip addr add 10.30.0.1/24 dev veth-l
  in_ns "$cli" ip addr add 10.30.0.2/24 dev veth-c
  in_ns "$lvs" ip link set veth-l up; in_ns "$lvs" ip link set lo up
  in_ns "$cli" ip link set veth-c up; in_ns "$cli" ip link set lo up
  expect "set-up: a --pe sip service" in_ns "$lvs" "$rs" -A -u 10.30.0.1:5060 -p 60 -M 0.0.0.0 -o --pe sip
  expect "set-up: its real server" in_ns "$lvs" "$rs" -a -u 10.30.0.1:5060 -r 10.30.0.3:5060 -g
  local short=call-1@example long odd
  long=$(python3 -c 'print("c" * 243 + "@example.org")')
  odd='x!%~_+.`'"'"'()<>"/[]?{}:-255'
  for id in "$short" "$long" "$odd"; do
    in_ns "$cli" python3 - "$id" <<'PY'
import socket, sys
cid = sys.argv[1]
msg = ("OPTIONS sip:svc@10.30.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.30.0.2:5060\r\n"
       "From: <sip:a@10.30.0.2>;tag=1\r\nTo: <sip:svc@10.30.0.1>\r\n"
       f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.30.0.2", 5060))
s.sendto(msg.encode(), ("10.30.0.1", 5060))
PY
  done
  # The three datagrams are on their way through the director: wait until its table holds
  # their three templates (one-packet scheduling keeps no connection; a deadline, not a
  # delay: each poll is one read of /proc, by ipvslab).
  local _
  for _ in $(seq 300); do
    (($(PYTHONPATH=$ROOT/qemu-tests/lib python3 -S -m ipvslab.ipvs entries "$lvs") >= 3)) && break
    sleep 0.2
  done
  in_ns "$lvs" "$rs" -Lcn --persistent-conn >"$work/sip.out" 2>"$work/sip.err"
  local rc=$?
  expect_eq "ipvsadm-rs -Lcn --persistent-conn exits 0" "$rc" 0
  expect "the short Call-ID is listed" grep -qE "^UDP .* sip +call-1@example\$" "$work/sip.out"
  expect "the 255-byte Call-ID is listed whole" grep -qF -- "$(printf ' %-18s %s' sip "$long")" "$work/sip.out"
  expect "the 255-byte Call-ID line ends with it" grep -qE "${long}\$" "$work/sip.out"
  expect "a Call-ID with odd characters is listed" grep -qF -- "$odd" "$work/sip.out"
  in_ns "$lvs" "$rs" -Lcn --persistent-conn --json >"$work/sip.json"
  expect "the JSON listing has the 255-byte Call-ID" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["connections"]
assert any(x["pe_name"] == "sip" and x["pe_data"] == sys.argv[2] for x in c), c' "$work/sip.json" "$long"
  in_ns "$lvs" "$REF" -Lcn >/dev/null 2>&1
  echo "  note: Debian's ipvsadm -Lcn on the same table exited $? (it overflows its buffers on long lines)"
  ip netns del "$lvs"; ip netns del "$cli"
}

# -R of many services, across many of ipvsadm-rs's batched netlink messages: both tools end
# with the same table. How fast each is, is for `make bench` to tell, not a test.
check_bulk_restore() {
  local n=${RESTORE_SERVICES:-300} i tool ns
  for ((i = 0; i < n; i++)); do
    printf -- '-A -t 10.%d.%d.1:80 -s rr\n-a -t 10.%d.%d.1:80 -r 10.200.0.1:80 -m\n' \
      $((i / 250)) $((i % 250)) $((i / 250)) $((i % 250))
  done >"$work/big.rules"
  for tool in ref rs; do
    ns=bulk-$tool
    ip netns add "$ns"
    PATH="$work/bin-$tool:$PATH" in_ns "$ns" ipvsadm -R <"$work/big.rules"
    in_ns "$ns" "$REF" -Sn >"$work/bulk.$tool"
    ip netns del "$ns"
  done
  expect_eq "ipvsadm -R restored $n services" "$(grep -c '^-A' "$work/bulk.ref")" "$n"
  expect "ipvsadm-rs -R gives the same table as ipvsadm -R" cmp "$work/bulk.ref" "$work/bulk.rs"
}

# Without privileges both fail the same way, with a clear message and no crash.
check_unprivileged() {
  local ns=np$$ d=$work/unpriv tool out
  mkdir -p "$d" && chmod 755 "$d"
  cp "$REF" "$d/ref" && cp "$RS" "$d/rs" && chmod 755 "$d/ref" "$d/rs"
  ip netns add "$ns"
  declare -A got
  for tool in ref rs; do
    out=$(in_ns "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
      "$d/$tool" -Ln 2>&1)
    got[$tool]="$out [exit $?]"
  done
  ip netns del "$ns"
  expect_eq "unprivileged -Ln: same message and status as ipvsadm" "${got[rs]}" "${got[ref]}"
  expect "unprivileged -Ln says why" grep -q "Permission denied (you must be root)" <<<"${got[rs]}"
}

# Failures that IPVS reports: ipvsadm-rs gives ipvsadm's exit status and its whole message
# first (scripts match it), then lines indented by two spaces that name the object and the
# likely cause (src/explain.rs).
# explains MESSAGE WHY: a line after the first of MESSAGE says WHY, indented by two spaces
# (else MESSAGE is printed, for the log).
explains() { grep -qF -- "  $2" <<<"$(tail -n +2 <<<"$1")" || { echo "$1"; return 1; }; }

check_explanations() {
  local ns=expl$$ i ref_err rs_err ref_rc rs_rc
  ip netns add "$ns"
  in_ns "$ns" "$REF" -A -t 10.40.0.1:80 -s rr
  local cmds=(
    "-A -u 10.40.0.2:5060 -p 60 --pe nosuchengine|persistence engine 'nosuchengine' is not registered"
    "-A -t 10.40.0.3:80 -s nosuchsched|scheduler 'nosuchsched' is not available"
    "-a -t 10.40.0.9:80 -r 10.40.1.1|service -t 10.40.0.9:80 is not in"
    "-d -t 10.40.0.1:80 -r 10.40.1.9|real server 10.40.1.9:80 is not a destination of service -t 10.40.0.1:80"
    "-D -t 10.40.0.9:80|service -t 10.40.0.9:80 is not in"
    "-L -t 10.40.0.9:80|service -t 10.40.0.9:80 is not in"
    "-A -t 10.40.0.1:80|service -t 10.40.0.1:80 is in the table already"
  )
  for i in "${cmds[@]}"; do
    local cmd=${i%%|*} why=${i#*|}
    # shellcheck disable=SC2086 # the command's words
    ref_err=$(in_ns "$ns" "$REF" $cmd 2>&1 >/dev/null); ref_rc=$?
    # shellcheck disable=SC2086
    rs_err=$(in_ns "$ns" "$RS" $cmd 2>&1 >/dev/null); rs_rc=$?
    expect_eq "$cmd: ipvsadm's status ($ref_rc)" "$rs_rc" "$ref_rc"
    expect_eq "$cmd: ipvsadm's message first ($ref_err)" "$(head -n "$(wc -l <<<"$ref_err")" <<<"$rs_err")" "$ref_err"
    expect "$cmd: then why, indented" explains "$rs_err" "$why"
  done
  in_ns "$ns" "$RS" -A -u 10.40.0.2:5060 -p 60 --pe nosuchengine 2>&1 >/dev/null | sed 's/^/    | /'
  ip netns del "$ns"
}

# ipvsadm-rs -h prints Debian's ipvsadm's text first, whole and unchanged (the scenario
# help_and_version compares it), then a blank line and a section of its own that names every
# option the man page has and ipvsadm's text lacks, and the generators the man page hides.
check_help_section() {
  local ref rs section o n=0 missing=()
  ref=$(PATH="$work/bin-ref:$PATH" ipvsadm -h)
  rs=$(PATH="$work/bin-rs:$PATH" ipvsadm -h)
  expect_eq "-h: ipvsadm's text comes first, whole" "${rs:0:${#ref}}" "$ref"
  section=${rs:${#ref}}
  if [[ $section == $'\n\n'"$OURS_HEADING"$'\n'* ]]; then
    _result 0 "-h: then a blank line and the heading '$OURS_HEADING'"
  else
    _result 1 "-h: then a blank line and the heading '$OURS_HEADING'"
    head -3 <<<"$section" | sed 's/^/    | /'
  fi
  for o in $("$RS" --man | grep -o '\\fB\\-\\-[a-z0-9\\-]*' | sed 's/^\\fB//; s/\\f.*$//; s/\\//g' | sort -u) \
    --completions --man; do
    # ipvsadm's own: in its text (as `--tcp-service|-t` too), or --version, which it takes
    # but does not list.
    grep -qE -- "$o( |\||$)" <<<"$ref" && continue
    [[ $o == --version ]] && continue
    n=$((n + 1))
    grep -qE -- "^  $o( |$)" <<<"$section" || missing+=("$o")
  done
  expect_eq "-h: the section lists each of the $n options ipvsadm's text lacks" "${missing[*]}" ""
  expect "-h: at least the 10 known today" test "$n" -ge 10
}

check_help_section
check_json
check_explanations
check_unprivileged
check_round_trip
check_sip_callids
check_bulk_restore
