#!/usr/bin/env python3
"""Oracle table for pep440.test.ts: packaging.version.Version orders every pair of the versions."""
import json, sys
import packaging
from packaging.version import Version, InvalidVersion

versions = json.load(open(sys.argv[1]))
parsed = []
for v in versions:
    try:
        parsed.append(Version(v))
    except InvalidVersion:
        parsed.append(None)
rows = []
for a in parsed:
    row = ""
    for b in parsed:
        row += "x" if a is None or b is None else "<" if a < b else ">" if a > b else "="
    rows.append(row)
json.dump({"oracle": f"python packaging {packaging.__version__}", "versions": versions,
           "valid": [p is not None for p in parsed], "matrix": rows}, sys.stdout, indent=0)
