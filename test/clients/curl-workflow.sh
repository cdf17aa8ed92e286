#!/usr/bin/env bash
# The vendor-documented curl workflow for registry scanning (spec sections 2.1, 3.2, 4.1, 4.5, 4.6,
# 5.1, 5.3), as literal curl command lines. The vendor's examples use Basic auth (`-u user:pass`)
# on some calls and the token from /authenticate (`Authorization: Bearer`) on others; so does this.
#
# Usage: curl-workflow.sh CONSOLE_URL USER PASSWORD REGISTRY REPO TAG OUT_DIR
#   CONSOLE_URL  e.g. https://127.0.0.1:8083 (a path prefix is allowed)
#   REGISTRY     registry address as stored in the specification, e.g. 127.0.0.1:5000, or
#                http://127.0.0.1:5000 for a registry served over plain HTTP
# Environment: POLL_SECONDS (default 2), POLL_TIMEOUT_SECONDS (default 300).
#
# Every response body is saved in OUT_DIR (and its status line and headers in <name>.headers) for
# the test to assert on. The script stops with a non-zero status on any non-200 answer or on a body
# that is not of the documented shape.
set -euo pipefail

if [ "$#" -ne 7 ]; then
  echo "usage: $0 CONSOLE_URL USER PASSWORD REGISTRY REPO TAG OUT_DIR" >&2
  exit 64
fi
CONSOLE="${1%/}"
USERNAME="$2"
PASSWORD="$3"
REGISTRY="$4"
REPO="$5"
TAG="$6"
OUT="$7"
# Image names (spec 6.9 `_id`) carry the registry's host, never the scheme a specification may give.
IMAGE_REGISTRY="${REGISTRY#*://}"
POLL_SECONDS="${POLL_SECONDS:-2}"
POLL_TIMEOUT_SECONDS="${POLL_TIMEOUT_SECONDS:-300}"
mkdir -p "$OUT"

fail() {
  echo "curl-workflow: $*" >&2
  exit 1
}

# The status code curl printed with -w is the last line of the captured output.
expect_200() {
  local name="$1" status="$2"
  [ "$status" = "200" ] || fail "$name: HTTP $status: $(head -c 2000 "$OUT/$name" 2>/dev/null)"
}

# jq -e exits non-zero when the filter yields false/null, or on a body that is not JSON.
expect_json() {
  local name="$1" filter="$2"
  jq -e "$filter" "$OUT/$name" >/dev/null 2>&1 || fail "$name: body does not satisfy '$filter': $(head -c 2000 "$OUT/$name")"
}

AUTH_BODY="$(jq -cn --arg u "$USERNAME" --arg p "$PASSWORD" '{username: $u, password: $p}')"
SPEC_BODY="$(jq -cn --arg r "$REGISTRY" --arg repo "$REPO" \
  '{version: "2", registry: $r, repository: $repo, tag: "", os: "linux", cap: 5, scanners: 2, collections: ["All"], credentialID: ""}')"
SCAN_BODY="$(jq -cn --arg r "$REGISTRY" --arg repo "$REPO" --arg t "$TAG" \
  '{onDemandScan: true, tag: {registry: $r, repo: $repo, tag: $t}}')"

# 1. Authenticate (spec 2.1): {"token": "<JWT>"}.
status="$(curl -k -sS -o "$OUT/authenticate.json" -D "$OUT/authenticate.json.headers" -w '%{http_code}' \
  -H 'Content-Type: application/json' -X POST -d "$AUTH_BODY" \
  "$CONSOLE/api/v1/authenticate")"
expect_200 authenticate.json "$status"
expect_json authenticate.json '.token | type == "string" and length > 0'
TOKEN="$(jq -r .token "$OUT/authenticate.json")"

# 2. Add a Docker Registry v2 specification without scanning it yet (spec 3.2), Basic auth.
status="$(curl -k -sS -o "$OUT/add-registry.body" -D "$OUT/add-registry.body.headers" -w '%{http_code}' \
  -u "$USERNAME:$PASSWORD" -H 'Content-Type: application/json' -X POST -d "$SPEC_BODY" \
  "$CONSOLE/api/v1/settings/registry?scanLater=true")"
expect_200 add-registry.body "$status"

# 3. Read the settings back (spec 3.1), Bearer token.
status="$(curl -k -sS -o "$OUT/settings-registry.json" -D "$OUT/settings-registry.json.headers" -w '%{http_code}' \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -X GET \
  "$CONSOLE/api/v1/settings/registry")"
expect_200 settings-registry.json "$status"
expect_json settings-registry.json '.specifications | type == "array"'

# 4. On-demand scan of one tag (spec 4.1 mode 3), Bearer token.
status="$(curl -k -sS -o "$OUT/scan.body" -D "$OUT/scan.body.headers" -w '%{http_code}' \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -X POST -d "$SCAN_BODY" \
  "$CONSOLE/api/v1/registry/scan")"
expect_200 scan.body "$status"

# 5. Poll the on-demand progress (spec 4.5) until isScanOngoing is false; the next call must be []
#    (the one-shot completion rule). Basic auth, as the vendor's progress example.
polls=0
deadline=$(($(date +%s) + POLL_TIMEOUT_SECONDS))
while :; do
  polls=$((polls + 1))
  status="$(curl -k -sS -o "$OUT/progress.json" -D "$OUT/progress.json.headers" -w '%{http_code}' \
    -u "$USERNAME:$PASSWORD" -H 'Content-Type: application/json' -X GET -G \
    --data-urlencode 'onDemand=true' --data-urlencode "repo=$REPO" --data-urlencode "tag=$TAG" \
    "$CONSOLE/api/v1/registry/progress")"
  expect_200 progress.json "$status"
  expect_json progress.json 'type == "array" and length > 0 and all(.[]; .isScanOngoing | type == "boolean")'
  if jq -e 'all(.[]; .isScanOngoing == false)' "$OUT/progress.json" >/dev/null; then
    cp "$OUT/progress.json" "$OUT/progress-final.json"
    break
  fi
  [ "$(date +%s)" -lt "$deadline" ] || fail "progress: scan still ongoing after ${POLL_TIMEOUT_SECONDS}s"
  sleep "$POLL_SECONDS"
done
echo "$polls" >"$OUT/progress-polls.txt"
status="$(curl -k -sS -o "$OUT/progress-after.json" -D "$OUT/progress-after.json.headers" -w '%{http_code}' \
  -u "$USERNAME:$PASSWORD" -H 'Content-Type: application/json' -X GET -G \
  --data-urlencode 'onDemand=true' --data-urlencode "repo=$REPO" --data-urlencode "tag=$TAG" \
  "$CONSOLE/api/v1/registry/progress")"
expect_200 progress-after.json "$status"
expect_json progress-after.json '. == []'

# 6. Status of the regular scan (spec 4.6), Bearer token.
status="$(curl -k -sS -o "$OUT/statuses-registry.json" -D "$OUT/statuses-registry.json.headers" -w '%{http_code}' \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -X GET \
  "$CONSOLE/api/v1/statuses/registry")"
expect_200 statuses-registry.json "$status"
expect_json statuses-registry.json '.completed | type == "boolean"'

# 7. The on-demand result by full image name (spec 6.9 / 5.1 `name`), Basic auth.
status="$(curl -k -sS -o "$OUT/registry-result.json" -D "$OUT/registry-result.json.headers" -w '%{http_code}' \
  -u "$USERNAME:$PASSWORD" -H 'Content-Type: application/json' -X GET -G \
  --data-urlencode "name=$IMAGE_REGISTRY/$REPO:$TAG" \
  "$CONSOLE/api/v1/registry")"
expect_200 registry-result.json "$status"
expect_json registry-result.json 'type == "array" and length == 1 and (.[0]._id | type == "string")'

# 8. CSV export (spec 5.3), Basic auth, saved as the vendor docs name it.
status="$(curl -k -sS -o "$OUT/registry_report.csv" -D "$OUT/registry_report.csv.headers" -w '%{http_code}' \
  -u "$USERNAME:$PASSWORD" -H 'Content-Type: application/json' -X GET \
  "$CONSOLE/api/v1/registry/download")"
expect_200 registry_report.csv "$status"
head -n 1 "$OUT/registry_report.csv" | grep -q '^Registry,Repository,Tag,' ||
  fail "registry_report.csv: header line is not the section 6.11 layout: $(head -n 1 "$OUT/registry_report.csv")"

echo "curl-workflow: ok ($polls progress polls), responses in $OUT"
