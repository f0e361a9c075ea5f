#!/usr/bin/env bash
# The same corpus of SIP datagrams through the kernel's C engine and through ours: each
# engine must store exactly the Call-IDs the corpus index predicts for it (the C model's
# answer for C, ours for Rust; they differ only where docs/c-engine-differences.md says),
# and our counters must account for every datagram.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"

corpus=/tmp/corpus
rm -rf "$corpus"
"${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/corpus" "$corpus" >/dev/null || { echo "cannot write the corpus"; exit 1; }
n=$(wc -l <"$corpus/index.tsv")
mapfile -t files < <(cut -f1 "$corpus/index.tsv" | sed "s|.*|$corpus/&.sip|")
differ=$(awk -F'\t' '$2 != $3' "$corpus/index.tsv" | wc -l)
echo "corpus: $n datagrams, $differ with a documented C/Rust difference"


run_engine() { # MODULE INDEX_COLUMN LABEL
  local mod=$1 col=$2 label=$3
  topo_up
  modprobe "$mod"
  expect "$label engine: module $mod is loaded" grep -q "^$mod " /proc/modules
  in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 60 -M 0.0.0.0 -o --pe sip
  for ip in "${RS_IPS[@]}"; do in_dir ipvsadm -a -u "$VIP:5060" -r "$ip:5060" -m; done
  awk -F'\t' -v c="$col" '$c != "-" { print $c }' "$corpus/index.tsv" | sort >"/tmp/want.$label"
  in_cli "$PY" "$ROOT/qemu-tests/lib/sipsend.py" "$CLI_IP" 5060 "$VIP" 5060 "${files[@]}" >/dev/null
  # Until the director holds as many templates as Call-IDs were sent (a deadline of 120 s,
  # which only a failure reaches); the diff below then says whether they are the right ones.
  local want t=$((SECONDS + 120))
  want=$(wc -l <"/tmp/want.$label")
  until (($(template_callids_hex | wc -l) >= want)) || ((SECONDS >= t)); do sleep 0.2; done
  template_callids_hex | sort >"/tmp/got.$label"
  expect "$label engine: stored Call-IDs match the corpus ($(wc -l <"/tmp/want.$label") expected)" \
    diff "/tmp/want.$label" "/tmp/got.$label"
}

run_engine ip_vs_pe_sip 2 C
topo_down
expect "the C engine unloads" unload ip_vs_pe_sip

run_engine ip_vs_pe_sip_rs 3 Rust
found=$(wc -l <"/tmp/want.Rust")
expect_eq "counter examined = datagrams sent" "$(stat examined)" "$n"
expect_eq "counter found = Call-IDs stored" "$(stat found)" "$found"
fallbacks=0
for c in not_udp fragment no_payload no_callid too_long bad_terminator alloc_failed; do
  fallbacks=$((fallbacks + $(stat "$c")))
done
expect_eq "the fallback counters add up to the rest" "$fallbacks" "$((n - found))"
expect_eq "no allocation failed" "$(stat alloc_failed)" 0
topo_down
expect "our engine unloads" unload ip_vs_pe_sip_rs
finish
