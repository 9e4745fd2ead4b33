#!/bin/sh
# scripts/demo-mail (the mail half of scripts/demo) as a newcomer runs it: the
# demo directory inside one only its owner may enter (a clone under /root, or
# a Debian 12 home, is 0700), a local Dovecot and SMTP sink, the summary mailed
# in, confirmed, counted, and the bulletin written.
# usage: test_demo_mail.sh BUILD_DIR SOURCE_DIR PLAN
set -eu
bin=$1 src=$2 plan=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
demo=$tmp/demo
mkdir "$demo"
export CAMPAIGN_DB="$demo/campaign.db" CAMPAIGN_NOW=2027-10-08T09:00:00+08:00
"$bin/cli/campaignctl" plan load "$plan" >/dev/null
out=$(/usr/bin/python3 "$src/scripts/demo-mail" "$bin" "$demo" 2>&1) || {
	echo "$out"
	echo "FAIL: scripts/demo-mail stopped"
	exit 1
}
echo "$out"
fail() { echo "FAIL: $*"; exit 1; }
echo "$out" | grep -q "市委宣传部.*已提交" || fail "the summary is not listed as 已提交"
echo "$out" | grep -q "已收到" || fail "no confirmation mailed to the unit"
[ -s "$demo/通报.docx" ] && [ -s "$demo/通报.pdf" ] || fail "no bulletin written"
echo "ok demo_mail"
