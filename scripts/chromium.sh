#!/usr/bin/env bash
# chromium.sh — make sure a Chromium for the browser tests is installed.
# Installs Debian's chromium package when missing (as root with apt).
set -euo pipefail
for b in chromium chromium-browser google-chrome; do
  command -v "$b" >/dev/null 2>&1 && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "chromium.sh: installing Debian's chromium for the browser tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  exit 0
fi
echo "chromium.sh: the browser tests need Chromium. Install it, e.g.: sudo apt-get install chromium" >&2
exit 1
