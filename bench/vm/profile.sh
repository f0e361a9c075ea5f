#!/usr/bin/env bash
# Where the datapath's time goes, inside the perf VM: one datapath run per configuration
# under `perf record` (cpu-clock sampling of the whole guest), then the hottest kernel
# symbols of each. Not part of `make bench`; run it to explain a datapath difference:
#   scripts/vm --perf -- bench/vm/profile.sh [CONFIG...]     (default: c rust)
. "$(dirname "$0")/datapath.sh"
(($#)) || set -- c rust
prepare || exit 1
for cfg in "$@"; do
  PROFILE="perf record -q -a -F 1999 -e cpu-clock -o /tmp/perf.$cfg.data --" run 1 "$cfg" || exit 1
  echo "== $cfg: hottest symbols"
  perf report -q -i "/tmp/perf.$cfg.data" --sort sym --stdio 2>/dev/null | grep -v '^$' | head -40
done
