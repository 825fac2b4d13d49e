#!/usr/bin/env bash
# Debian's chromium for the browser test (tests/test_browser.py), installed only when it is missing.
# Playwright's own browser download is not used: the test launches /usr/bin/chromium.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing chromium (apt-get) for the browser test..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version >&2
