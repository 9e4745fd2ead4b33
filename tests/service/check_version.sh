#!/bin/sh
# Every program answers --version with "NAME VERSION", VERSION being the
# project's (CMake's project(VERSION)), and exits 0.
# usage: check_version.sh VERSION PROGRAM...
set -eu
want=$1; shift
for prog in "$@"; do
	name=$(basename "$prog")
	got=$("$prog" --version)
	if [ "$got" != "$name $want" ]; then
		echo "$name --version printed \"$got\", expected \"$name $want\"" >&2
		exit 1
	fi
	echo "$got"
done
