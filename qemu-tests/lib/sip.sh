# Real SIP traffic with sipp (sourced by tests inside the VM, after topo.sh).
#
# sipp runs without retransmissions (-nr): under emulation a busy guest can take longer than
# SIP's 500 ms timer to answer, and sipp's built-in UAS aborts a call on a retransmitted
# INVITE (which our engine, rightly, sends to the same server). veth loses nothing.
# shellcheck shell=bash

SIPLOG=/tmp/sip

# sip_servers_up: a sipp UAS on each real server, logging every message it receives.
sip_servers_up() {
  rm -rf "$SIPLOG" && mkdir -p "$SIPLOG"
  local i
  for i in 1 2 3; do
    (cd "$SIPLOG" && in_rs "$i" sipp -sn uas -i "${RS_IPS[i - 1]}" -p 5060 -nr -nostdin -bg \
      -trace_msg -message_file "$SIPLOG/rs$i.msg" -trace_err -error_file "$SIPLOG/rs$i.err" \
      >/dev/null 2>&1)
  done
  sleep 1
}

sip_servers_down() { pkill -x sipp 2>/dev/null; sleep 0.5; return 0; }

# sip_calls N RATE: N calls from the client's port 5060 to the VIP; prints sipp's totals and
# returns its status (0 when every call succeeded).
sip_calls() {
  local n=$1 rate=$2
  (cd "$SIPLOG" && in_cli sipp -sn uac "$VIP:5060" -i "$CLI_IP" -p 5060 -nr -m "$n" -r "$rate" \
    -l 50 -nostdin -timeout 120 -timeout_error -trace_stat -stf "$SIPLOG/uac.csv" \
    -trace_err -error_file "$SIPLOG/uac.err" >/dev/null 2>&1)
  local rc=$?
  echo "sipp: $(sip_stat SuccessfulCall) successful, $(sip_stat FailedCall) failed calls (exit $rc)"
  if ((rc != 0)); then
    echo "sipp's errors (first lines of each log):"
    local f
    for f in "$SIPLOG"/*.err; do
      [[ -s $f ]] && { echo "== ${f##*/}"; head -c 3000 "$f"; echo; }
    done
  fi
  return $rc
}

# sip_stat NAME: the cumulative value of sipp's statistic NAME in the client's last run.
sip_stat() {
  local col
  col=$(head -1 "$SIPLOG/uac.csv" | tr ';' '\n' | grep -nx "$1(C)" | cut -d: -f1)
  tail -1 "$SIPLOG/uac.csv" | cut -d';' -f"$col"
}

# sip_callids_at N: the Call-IDs of the requests real server N received, one per line.
sip_callids_at() {
  grep -ahiE '^(Call-ID|i) *:' "$SIPLOG/rs$1.msg" 2>/dev/null | sed -E 's/^[^:]*: *//; s/\r$//' | sort -u
}

# sip_report: calls per server, and calls whose messages reached more than one server.
sip_report() {
  local i total=0
  for i in 1 2 3; do
    sip_callids_at "$i" >"$SIPLOG/ids$i"
    total=$((total + $(wc -l <"$SIPLOG/ids$i")))
  done
  SPLIT=$(sort "$SIPLOG"/ids? | uniq -d | wc -l)
  for i in 1 2 3; do
    PER_SERVER[i]=$(wc -l <"$SIPLOG/ids$i")
    printf '  rs%d (%s): %3d calls\n' "$i" "${RS_IPS[i - 1]}" "${PER_SERVER[i]}"
  done
  echo "  calls seen by more than one server: $SPLIT"
}
