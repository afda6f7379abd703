#!/usr/bin/env bash
# The portal's typeface, Sarabun (SIL Open Font License 1.1), self-hosted: never a font CDN.
# Taken from the npm package @fontsource/sarabun at a fixed version; run again to refresh.
# Only the Thai and Latin subsets at the two weights the pages use are kept.
set -euo pipefail
version=5.3.0
here=$(cd "$(dirname "$0")/.." && pwd)
target="$here/services/portal/static/fonts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@fontsource/sarabun@$version" >/dev/null && tar xzf fontsource-sarabun-*.tgz)
mkdir -p "$target"
for subset in thai latin; do
  for weight in 400 700; do
    cp "$work/package/files/sarabun-$subset-$weight-normal.woff2" "$target/"
  done
done
cp "$work/package/LICENSE" "$target/OFL.txt"
echo "Sarabun $version: $(ls "$target" | tr '\n' ' ')"
