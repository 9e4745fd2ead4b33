#!/bin/sh
# Runs dingtalk_sdk.test.cjs: DingTalk's official Node SDK (npm dingtalk-stream,
# pinned in package-lock.json) against tests/fake/fake_dingtalk.py, or TEST
# (wecom_sdk.test.cjs: npm @wecom/aibot-node-sdk against tests/fake/fake_wecom.py).
# usage: run_sdk_test.sh WORKDIR [TEST]
# `npm ci` installs into WORKDIR (a build directory, never the source tree), once
# per lock file; with npm's own cache (~/.npm) and --prefer-offline, another
# build directory installs again without the network.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run_sdk_test.sh WORKDIR [TEST]}
testfile=${2:-dingtalk_sdk.test.cjs}
mkdir -p "$work"
work=$(cd "$work" && pwd)
stamp="$work/node_modules/.campaign-lock"
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  cp "$here/package-lock.json" "$stamp"
fi
export DT_NODE_MODULES="$work/node_modules"
export DT_FAKE="$here/../fake_dingtalk.py"
export DT_TMP="$work/tmp"
mkdir -p "$DT_TMP"
export WECOM_NODE_MODULES="$work/node_modules"
export WECOM_FAKE="$here/../fake_wecom.py"
export WECOM_TMP="$work/tmp"
exec node --test "$here/$testfile"
