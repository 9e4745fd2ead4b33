#!/usr/bin/env bash
# CLI test: runs CASE/cmd (bash, with $ctl = campaignctl and $seed = the seed
# plan) against a fresh database on 2027-10-08 09:00 Shanghai time, and compares
# stdout with CASE/expected (and stderr with CASE/expected.stderr if present).
# usage: run-cli-case.sh CAMPAIGNCTL SEED_PLAN CASE_DIR [--update]
set -u
export ctl=$1 seed=$2
case=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CAMPAIGN_DB=$tmp/campaign.db CAMPAIGN_NOW=2027-10-08T09:00:00+08:00
unset CAMPAIGN_CONFIG
cd "$tmp"
bash -o pipefail "$case/cmd" >"$tmp/stdout" 2>"$tmp/stderr"
echo "exit $?" >>"$tmp/stdout"
if [ "${4:-}" = --update ]; then
  cp "$tmp/stdout" "$case/expected"
  [ -s "$tmp/stderr" ] && cp "$tmp/stderr" "$case/expected.stderr"
  exit 0
fi
status=0
if ! diff -u "$case/expected" "$tmp/stdout"; then status=1; fi
if [ -f "$case/expected.stderr" ] && ! diff -u "$case/expected.stderr" "$tmp/stderr"; then
  status=1
fi
exit $status
