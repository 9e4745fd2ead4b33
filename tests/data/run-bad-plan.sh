#!/usr/bin/env bash
# Data test for a broken plan file: with the seed plan loaded, `plan load CASE`
# must exit 1 with the expected located message and leave the database as it was.
# usage: run-bad-plan.sh CAMPAIGNCTL SEED_PLAN CASE_DIR
set -u
ctl=$1 seed=$2 case=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CAMPAIGN_DB=$tmp/campaign.db CAMPAIGN_NOW=2027-10-08T09:00:00+08:00

"$ctl" plan load "$seed" >/dev/null || { echo "FAIL: seed did not load"; exit 1; }
"$ctl" report 2.4 市工商联 60 >/dev/null || { echo "FAIL: report"; exit 1; }
"$ctl" plan show --json >"$tmp/before.json"
"$ctl" tasks --json >"$tmp/tasks-before.json"

"$ctl" plan load "$case/plan.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 1 ]; then
  echo "FAIL: exit status $rc, expected 1"; cat "$tmp/out" "$tmp/err"; exit 1
fi
if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
  echo "FAIL: expected a one-line reason on stderr, got:"; cat "$tmp/err"; exit 1
fi
expected=$(cat "$case/expected-error")
if ! grep -qF -- "$expected" "$tmp/err"; then
  echo "FAIL: stderr lacks: $expected"; echo "got: $(cat "$tmp/err")"; exit 1
fi
if ! grep -qF -- "$case/plan.json" "$tmp/err"; then
  echo "FAIL: the message does not name the file: $(cat "$tmp/err")"; exit 1
fi
"$ctl" plan show --json >"$tmp/after.json"
"$ctl" tasks --json >"$tmp/tasks-after.json"
if ! cmp -s "$tmp/before.json" "$tmp/after.json" ||
   ! cmp -s "$tmp/tasks-before.json" "$tmp/tasks-after.json"; then
  echo "FAIL: the loaded plan or its progress changed"; diff "$tmp/before.json" "$tmp/after.json"
  exit 1
fi
echo "ok: $(cat "$tmp/err")"
