#!/usr/bin/env bash
# Vendors the front-end assets the web pages serve from app/static/vendor/.
#
# The service must run on an intranet with no internet, so nothing is loaded
# from a CDN at run time: this script fetches pinned versions from the npm
# registry (`npm pack`, which checks the registry's integrity hash), copies only
# the built files the pages use plus each package's licence, and writes
# app/static/vendor/MANIFEST.txt (package, version, npm integrity, sha256 of every
# copied file). Run it only to change a version; commit the result.
#
#   scripts/vendor_assets.sh            # fetch and copy
#   scripts/vendor_assets.sh --check    # verify app/static/vendor against MANIFEST.txt
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=app/static/vendor
MANIFEST=$DEST/MANIFEST.txt

# package@version  ->  files copied (relative to the package root), space-separated
declare -A FILES=(
  [leaflet@1.9.4]="dist/leaflet.js dist/leaflet.css dist/images/layers.png dist/images/layers-2x.png dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png LICENSE"
  [leaflet.markercluster@1.5.3]="dist/leaflet.markercluster.js dist/MarkerCluster.css dist/MarkerCluster.Default.css MIT-LICENCE.txt"
  [chart.js@4.5.1]="dist/chart.umd.min.js LICENSE.md"
)
ORDER=(leaflet@1.9.4 leaflet.markercluster@1.5.3 chart.js@4.5.1)

if [[ "${1:-}" == "--check" ]]; then
  (cd "$DEST" && grep -v '^#' MANIFEST.txt | awk 'NF==2 {print $1"  "$2}' | sha256sum --check --quiet)
  echo "app/static/vendor matches MANIFEST.txt"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to vendor assets (Node.js 18+)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

{
  echo "# Vendored front-end assets: written by scripts/vendor_assets.sh, do not edit."
  echo "# Each package keeps its licence file next to its code."
} > "$work/manifest"

for spec in "${ORDER[@]}"; do
  name=${spec%@*}; version=${spec##*@}
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tgz=$(ls "$work"/"${name//./.}"-"$version".tgz 2>/dev/null || ls "$work"/*"$version".tgz | head -n1)
  integrity=$(npm view "$spec" dist.integrity)
  mkdir -p "$work/$name" && tar -xzf "$tgz" -C "$work/$name"
  out="$DEST/$name-$version"
  rm -rf "$out" && mkdir -p "$out"
  echo "# $spec integrity=$integrity" >> "$work/manifest"
  for f in ${FILES[$spec]}; do
    mkdir -p "$out/$(dirname "$f")"
    cp "$work/$name/package/$f" "$out/$f"
    (cd "$DEST" && sha256sum "$name-$version/$f") >> "$work/manifest"
  done
  rm -f "$tgz"
done
cp "$work/manifest" "$MANIFEST"
echo "vendored ${ORDER[*]} into $DEST"
