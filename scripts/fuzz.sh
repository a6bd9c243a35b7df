#!/usr/bin/env bash
# A short fuzz pass: every Fuzz target in the module for a few seconds each.
# FUZZTIME overrides the duration per target (default 3s).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-3s}
n=0
while IFS= read -r line; do
  file=${line%%:*}
  name=$(echo "$line" | sed -E 's/.*func (Fuzz[A-Za-z0-9_]*)\(.*/\1/')
  pkg=./$(dirname "$file")
  echo "fuzz: $pkg $name ($fuzztime)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/ward-fuzz.log 2>&1 || { cat /tmp/ward-fuzz.log; echo "fuzz: $pkg $name FAILED"; exit 1; }
  n=$((n+1))
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '^./vendor/' | sort)
echo "fuzz: $n targets passed"
