#!/bin/sh
# Checks the writers' golden files with outside tools: every golden/*.xml against the JUnit
# schema (xmllint), every golden/*.json with a JSON parser (python3, else jq).
# Usage: check_golden.sh XMLLINT XSD GOLDEN_DIR SCRATCH_DIR
set -u
xmllint=$1 xsd=$2 golden=$3 scratch=$4
fail=0 nxml=0 njson=0

mkdir -p "$scratch" || exit 1
# First make sure the check can fail: a decimal comma in a time must be rejected. ("1,250"
# would pass: the Surefire pattern reads it as a thousands separator, so only the locale
# test in test_reports_golden guards against that.)
printf '<testsuites time="12,5"/>\n' >"$scratch/bad.xml"
if "$xmllint" --noout --schema "$xsd" "$scratch/bad.xml" 2>/dev/null; then
	echo "FAIL: xmllint accepted a document the schema forbids; is $xsd the JUnit schema?"
	exit 1
fi

for f in "$golden"/*.xml; do
	[ -e "$f" ] || continue
	nxml=$((nxml + 1))
	"$xmllint" --noout --schema "$xsd" "$f" || { echo "FAIL: $f"; fail=1; }
done

if command -v python3 >/dev/null 2>&1; then
	parse() { python3 -m json.tool "$1" >/dev/null; }
elif command -v jq >/dev/null 2>&1; then
	parse() { jq empty "$1"; }
else
	echo "SKIP: neither python3 nor jq to parse JSON"
	exit 77
fi
for f in "$golden"/*.json; do
	[ -e "$f" ] || continue
	njson=$((njson + 1))
	parse "$f" || { echo "FAIL: $f is not valid JSON"; fail=1; }
done

echo "$nxml JUnit files checked against $xsd, $njson JSON files parsed"
if [ "$nxml" -eq 0 ] || [ "$njson" -eq 0 ]; then
	echo "FAIL: no golden files in $golden"
	exit 1
fi
exit $fail
