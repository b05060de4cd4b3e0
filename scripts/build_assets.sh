#!/usr/bin/env bash
# Rebuild the portal's front-end assets from the npm package govuk-frontend (pinned in package.json).
#
# The outputs under portal/static/ are committed, so running the portal needs only Python; Node and npm are
# needed only to run this script. Idempotent: it rewrites every file it owns and nothing else.
#
#   portal/static/css/portal.css                  assets/portal.scss compiled (GOV.UK Frontend + app- styles)
#   portal/static/govuk/govuk-frontend.min.js     ES module: load with <script type="module">
#   portal/static/images/favicon.svg              the portal's own crown-free icon (from assets/)
#   portal/static/LICENSE-govuk-frontend.txt      MIT (code) and OGL (documentation) notice
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v npm >/dev/null || { echo "build_assets: npm is needed to rebuild the assets (Node 20+)" >&2; exit 1; }

echo "build_assets: npm ci"
# --ignore-scripts: nothing here needs an install script, so none runs.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

pkg="node_modules/govuk-frontend"
dist="$pkg/dist/govuk"
wanted="$(node -p 'require("./package.json").devDependencies["govuk-frontend"]')"
got="$(node -p "require('./$pkg/package.json').version")"
[[ "$got" == "$wanted" ]] || { echo "build_assets: govuk-frontend $got installed, $wanted pinned" >&2; exit 1; }

echo "build_assets: sass assets/portal.scss -> portal/static/css/portal.css"
mkdir -p portal/static/css
node_modules/.bin/sass --pkg-importer=node --style=compressed --no-source-map --quiet-deps \
  assets/portal.scss portal/static/css/portal.css

echo "build_assets: copy govuk-frontend $got JavaScript and images"
rm -rf portal/static/govuk
mkdir -p portal/static/govuk portal/static/images
# Drop the sourceMappingURL comment: the .map is not shipped, so it would only 404 in developer tools.
sed -e 's|//# sourceMappingURL=.*$||' "$dist/govuk-frontend.min.js" > portal/static/govuk/govuk-frontend.min.js
# The portal is not on GOV.UK: none of the package's images (every favicon and icon is the crown, plus the crest
# and the GOV.UK share image) is shipped; the portal's own crown-free icon is used instead.
cp assets/favicon.svg portal/static/images/favicon.svg
cp assets/LICENSE-govuk-frontend.txt portal/static/LICENSE-govuk-frontend.txt

# The portal is not on GOV.UK: the GDS Transport font must not be referenced or requested.
css=portal/static/css/portal.css
if grep -q "GDS Transport" "$css" || grep -q "/fonts/" "$css" || grep -q "@font-face" "$css"; then
  echo "build_assets: $css refers to GDS Transport or its fonts" >&2
  exit 1
fi

echo "build_assets: done"
(cd portal/static && find css govuk images LICENSE-govuk-frontend.txt -type f -print0 | sort -z | xargs -0 ls -l | awk '{printf "  %8d  %s\n", $5, $9}')
