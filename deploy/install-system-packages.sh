#!/bin/sh
# The system packages the tests and the demo use besides Python's and Kafka's jars:
#   chromium         the portal's browser tests (pages, print, a 390 px phone)
#   fonts-thai-tlwg  Thai glyphs for that browser
#   libpango-1.0-0, libpangoft2-1.0-0
#                    Pango (with HarfBuzz) for WeasyPrint: the survey's A4 posters, Thai
#                    text shaped and drawn to PDF
#   prometheus       promtool (the alert rules' and dashboard's tests) and the Prometheus
#                    `gecc stack up` runs beside the services
# On Debian as root, installs those that are missing (nothing, not even `apt-get update`, when
# all are there); elsewhere says what to install and succeeds: the tests that need them say so.
set -u

PACKAGES="chromium fonts-thai-tlwg libpango-1.0-0 libpangoft2-1.0-0 prometheus"

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "system packages: not Debian; install by hand: Chromium, Thai fonts (TLWG)," \
        "Pango (libpango-1.0-0, libpangoft2-1.0-0), Prometheus with promtool" >&2
    exit 0
fi

missing=""
for package in $PACKAGES; do
    installed "$package" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "system packages missing:$missing; install them with:" >&2
    echo "  sudo apt-get install -y$missing" >&2
    exit 0
fi

echo "system packages: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # one word per package
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; }; then
    echo "system packages: apt-get failed; install by hand: apt-get install -y$missing" >&2
    exit 0
fi
# Debian's package enables a system Prometheus on :9090, the port `gecc stack up` uses by
# default; where one runs, say so (set GECC_PROMETHEUS_PORT, or stop that service).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    echo "system packages: Debian's prometheus service now runs on :9090;" \
        "'systemctl disable --now prometheus' or set GECC_PROMETHEUS_PORT" >&2
fi
