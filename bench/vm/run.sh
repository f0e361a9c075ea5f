#!/usr/bin/env bash
# Inside the perf VM (started by scripts/bench through scripts/vm --perf): runs the named
# benchmark parts (datapath, engine, control) in this one boot and prints their raw records,
# one per line, tagged with the part; bench/report.py turns them into figures.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
echo "vm kernel=$(uname -r) cpus=$(nproc) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
rc=0
for part in "$@"; do
  echo "vm part=$part start=$(date +%s)"
  bash "$here/$part.sh" || { echo "vm part=$part failed"; rc=1; }
  echo "vm part=$part end=$(date +%s)"
done
exit $rc
