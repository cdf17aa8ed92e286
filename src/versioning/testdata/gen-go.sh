#!/usr/bin/env bash
# Oracle table for go.test.ts from golang.org/x/mod/semver as vendored in the Go toolchain
# (apt-get install golang-go):  bash gen-go.sh > go-oracle.json
# OSV writes Go versions without the "v"; as go.ts does, the oracle reads "1.2.3" as "v1.2.3".
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
mkdir -p "$tmp/semver"
cp "$(go env GOROOT)/src/cmd/vendor/golang.org/x/mod/semver/semver.go" "$tmp/semver/"
cp go-versions.json "$tmp/versions.json"
cat > "$tmp/go.mod" <<'MOD'
module oracle
go 1.19
MOD
cat > "$tmp/main.go" <<'MAIN'
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"

	"oracle/semver"
)

func main() {
	var versions []string
	data, _ := os.ReadFile("versions.json")
	if err := json.Unmarshal(data, &versions); err != nil {
		panic(err)
	}
	canon := make([]string, len(versions))
	valid := make([]bool, len(versions))
	for i, v := range versions {
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		canon[i], valid[i] = v, semver.IsValid(v)
	}
	matrix := make([]string, len(versions))
	for i := range versions {
		var row strings.Builder
		for j := range versions {
			switch c := semver.Compare(canon[i], canon[j]); {
			case !valid[i] || !valid[j]:
				row.WriteByte('x')
			case c < 0:
				row.WriteByte('<')
			case c > 0:
				row.WriteByte('>')
			default:
				row.WriteByte('=')
			}
		}
		matrix[i] = row.String()
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{
		"oracle":   fmt.Sprintf("golang.org/x/mod/semver (%s)", runtime.Version()),
		"versions": versions, "valid": valid, "matrix": matrix,
	})
}
MAIN
(cd "$tmp" && GOFLAGS=-mod=mod GOPROXY=off go run .)
rm -rf "$tmp"
