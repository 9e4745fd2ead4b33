#!/bin/bash
# The install layout, the systemd units and the Debian package, as an admin
# meets them: `cmake --install` into a staging prefix puts every file where
# docs/REFERENCE.md "Files" says; the installed programs run; the units pass
# `systemd-analyze verify` and rate "OK" or better in `systemd-analyze
# security`; `cpack -G DEB` makes campaign-bot_<version>_<arch>.deb with
# computed dependencies, the conffile and the maintainer scripts, and lintian
# finds no error in it.
# usage: test_package.sh BUILD_DIR VERSION
set -euo pipefail
build=$1 version=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/campaign-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg-deb dpkg-shlibdeps file lintian systemd-analyze; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/lib.sh installs it)"
done

echo "== cmake --install"
cmake --install "$build" --prefix "$tmp/usr" >/dev/null
for f in bin/campaignctl bin/campaign-bot bin/campaign-bridge \
	share/campaign/plans/fupinri.json share/campaign/seed/fupinri-plan.txt \
	share/doc/campaign-bot/campaign.ini share/doc/campaign-bot/copyright \
	share/doc/campaign-bot/changelog.gz \
	lib/systemd/system/campaign-bot.service lib/systemd/system/campaign-bridge.service \
	share/man/man8/campaign-bot.8.gz share/man/man8/campaign-bridge.8.gz \
	share/man/man8/campaignctl.8.gz share/man/man5/campaign.ini.5.gz etc/campaign/campaign.ini; do
	[ -e "$tmp/usr/$f" ] || fail "cmake --install did not install $f"
done
"$tmp/usr/bin/campaignctl" --version | grep -qx "campaignctl $version" || fail "installed campaignctl --version"
for d in campaign-bot campaign-bridge; do
	"$tmp/usr/bin/$d" -n --config "$tmp/usr/share/doc/campaign-bot/campaign.ini" |
		grep -qx "configuration OK" || fail "$d -n does not accept the example campaign.ini"
done
# The seed plan as installed loads.
CAMPAIGN_DB="$tmp/seed.db" "$tmp/usr/bin/campaignctl" plan load \
	"$tmp/usr/share/campaign/plans/fupinri.json" >/dev/null || fail "installed seed plan does not load"

echo "== systemd units"
mkdir "$tmp/units"
for u in campaign-bot campaign-bridge; do
	sed "s#/usr/bin/#$tmp/usr/bin/#" "$tmp/usr/lib/systemd/system/$u.service" >"$tmp/units/$u.service"
	MANPATH="$tmp/usr/share/man" systemd-analyze verify "$tmp/units/$u.service" ||
		fail "systemd-analyze verify $u.service"
	grep -qx "Type=notify" "$tmp/units/$u.service" || fail "$u.service is not Type=notify"
	# "OK" or better is an exposure below 2.0: threshold 19 (tenths).
	systemd-analyze security --offline=true --threshold=19 "$tmp/units/$u.service" \
		>"$tmp/$u.security" 2>&1 || { tail -3 "$tmp/$u.security"; fail "$u.service exposure above OK"; }
	tail -1 "$tmp/$u.security"
done

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack"; }
deb="$tmp/deb/campaign-bot_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $(basename "$deb") (got: $(ls "$tmp/deb"))"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in adduser libc6 libsqlite3-0 libjansson4 libcurl4 libmosquitto1 libwslay1; do
	grep -q "\b$dep\b" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./conffiles | grep -qx /etc/campaign/campaign.ini ||
	fail "/etc/campaign/campaign.ini is not a conffile"
dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./postinst | grep -q "adduser --system" ||
	fail "postinst does not create the campaign user"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/campaign-bot ./usr/bin/campaign-bridge ./usr/bin/campaignctl \
	./etc/campaign/campaign.ini ./usr/lib/systemd/system/campaign-bot.service \
	./usr/share/man/man8/campaignctl.8.gz ./usr/share/campaign/plans/fupinri.json; do
	grep -qx -- "$f" <<<"$contents" || fail "the package lacks $f"
done
echo "$(basename "$deb"): $(wc -c <"$deb") bytes; Depends: $depends"

echo "== lintian"
lintian --tag-display-limit 0 "$deb" >"$tmp/lintian.log" 2>&1 || true
grep -v "running with root privileges" "$tmp/lintian.log" || true
if grep -q "^E: " "$tmp/lintian.log"; then
	fail "lintian errors"
fi
echo "package OK"
