#!/usr/bin/env bash
# Chromium from the system packages, for the chat page's browser test (Playwright drives it
# through executable_path; its own browser download needs a network it may not have).
# Without root or apt-get the test skips and says why.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
command -v chromium-browser >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not found: the page's browser test will skip (install Chromium)" >&2
    exit 0
fi
if [[ "$(id -u)" -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "not root: the page's browser test will skip (apt-get install chromium)" >&2
    exit 0
fi
echo "Installing Chromium (apt-get install chromium) for the browser test ..."
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >/dev/null || {
    echo "apt-get install chromium failed: the page's browser test will skip" >&2
    exit 0
}
