#!/usr/bin/env bash
# The npm packages of the third-party MCP servers that the interop tests and benchmarks run
# against, installed only when tests/interop's lock changed, and swapped in atomically:
# node_modules is a symbolic link to a directory named after the lock's digest, so a test
# that runs while another `make` installs sees either the old tree or the new one, never half.
set -euo pipefail
dir="$(cd "$(dirname "$0")/../tests/interop" && pwd)"
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: interop tests with Node MCP servers will fail (install Node.js 20+)" >&2
    exit 0
fi
digest="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -c1-16)"
target=".npm/$digest/node_modules"
current() { [[ -L "$dir/node_modules" && "$(readlink "$dir/node_modules")" == "$target" && -f "$dir/$target/.complete" ]]; }
current && exit 0

mkdir -p "$dir/.npm"
exec 9>"$dir/.npm/lock"
flock 9  # one installer at a time; the others wait, then find the work done
current && exit 0

echo "Installing the interop tests' npm packages (tests/interop) ..."
build="$(mktemp -d "$dir/.npm/build.XXXXXX")"
chmod 755 "$build"
cp "$dir/package.json" "$dir/package-lock.json" "$build/"
npm ci --prefix "$build" --no-audit --no-fund --loglevel=error >/dev/null
touch "$build/node_modules/.complete"
rm -rf "${dir:?}/.npm/$digest"
mv "$build" "$dir/.npm/$digest"
# A node_modules left as a real directory by an older checkout goes first, once.
[[ -d "$dir/node_modules" && ! -L "$dir/node_modules" ]] && rm -rf "$dir/node_modules"
ln -sfn "$target" "$dir/.node_modules.new"
mv -T "$dir/.node_modules.new" "$dir/node_modules"  # rename(2): atomic
# Older trees are removed once nothing points at them.
for old in "$dir"/.npm/*/; do
    [[ "$(basename "$old")" == "$digest" || "$(basename "$old")" == build.* ]] || rm -rf "$old"
done
