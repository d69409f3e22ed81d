#!/bin/sh
# Make sure headless Chromium is available for the report's browser test (tests/test_report_browser.py).
#
# Installs the Debian/Ubuntu package `chromium` when no Chromium is on PATH, plus the Noto fonts so
# the report's screenshots show every script (pass --no-fonts to skip them). Needs root or sudo for
# apt-get; without either it prints what to run and exits 0, and the browser tests skip with that hint
# (set TOKENSMITH_REQUIRE_BROWSER=1 to make them fail instead, as CI does).
set -eu

fonts=yes
[ "${1:-}" = "--no-fonts" ] && fonts=no

for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "chromium: found $(command -v "$name")"
        exit 0
    fi
done

packages="chromium"
[ "$fonts" = yes ] && packages="$packages fonts-noto-core fonts-noto-cjk"

if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: not found and apt-get is unavailable; install Chromium yourself (or set TOKENSMITH_CHROMIUM)" >&2
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo"
else
    echo "chromium: not found; run: sudo apt-get install -y $packages" >&2
    exit 0
fi

echo "chromium: installing $packages"
$as_root apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "chromium: installed $(command -v chromium)"
