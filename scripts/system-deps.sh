#!/usr/bin/env bash
# Install the Debian packages the tests need (headless Chromium and its driver, poppler-utils)
# and npm (used once at install time to fetch the map's JavaScript) when they are missing.
# Uses sudo when not root.
set -euo pipefail
need=()
if [ "${1:-}" = "--runtime" ]; then
  command -v npm >/dev/null 2>&1 || need+=(npm)
else
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v npm >/dev/null 2>&1 || need+=(npm)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing Debian packages: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
