#!/usr/bin/env bash
# Oracle table for maven.test.ts from Debian's maven-artifact jar (apt-get install maven):
#   bash gen-maven.sh > maven-oracle.json
set -euo pipefail
cd "$(dirname "$0")"
jar=/usr/share/maven/lib/maven-artifact-3.x.jar
tmp=$(mktemp -d)
javac -d "$tmp" -cp "$jar" MavenOracle.java
version=$(unzip -p "$jar" META-INF/maven/org.apache.maven/maven-artifact/pom.properties | sed -n 's/^version=//p')
node -e 'for (const v of JSON.parse(require("fs").readFileSync("maven-versions.json","utf8"))) console.log(v)' |
  java -cp "$tmp:$jar" MavenOracle > "$tmp/matrix"
node -e '
const fs = require("fs");
const versions = JSON.parse(fs.readFileSync("maven-versions.json", "utf8"));
const matrix = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
process.stdout.write(JSON.stringify({ oracle: "maven-artifact " + process.argv[2] + " ComparableVersion",
  versions, valid: versions.map((v) => v !== ""), matrix }, null, 0) + "\n");
' "$tmp/matrix" "$version"
rm -rf "$tmp"
