#!/usr/bin/env bash
# Runs one test file N times in a row while every core is kept busy, to show that a test holds on a
# loaded machine: bash scripts/stress-loop.sh <test file> [runs, default 50]
set -u
file=${1:?usage: stress-loop.sh <test file> [runs]}
runs=${2:-50}
cores=$(nproc)
busy=()
for _ in $(seq 1 "$cores"); do (while :; do :; done) & busy+=($!); done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$runs"); do
  if npx vitest run "$file" >"/tmp/stress-loop-$i.log" 2>&1; then rm -f "/tmp/stress-loop-$i.log"; else failed=$((failed + 1)); echo "run $i failed: /tmp/stress-loop-$i.log"; fi
done
echo "$file: $((runs - failed)) of $runs runs passed with $cores busy loops"
[ "$failed" -eq 0 ]
