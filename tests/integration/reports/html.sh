#!/usr/bin/env bash
# report.html of a real drill with a short outage (a 40 ms freeze under 2000 writes/s):
# the page is self-contained and holds the close-up of the fault and a point per
# operation; then headless Chromium, with no network (unshare -n), renders it: --dump-dom
# shows the close-up's SVG and the points parsed as elements, and the screenshot is a
# valid, non-blank PNG of the window's size (png_check.py, which must also reject a blank
# page). Without /usr/bin/chromium the page checks still run, then the test skips (77):
# scripts/install-deps.sh does not install a 290 MB browser for one test.
# REPORTS_SCREENSHOT=FILE keeps a copy of the screenshot.
set -u
. "$(dirname "$0")/../drills/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
cd "$src"

drill 0 tests/fixtures/scenarios/reports/short-outage.yaml
rd=$(ls -d "$work"/runs/reports-short-outage-* | head -1)
page=$rd/report.html
[ -s "$page" ] && ok "report.html written ($(stat -c %s "$page") bytes)" || { bad "no report.html"; finish; exit 1; }
size=$(stat -c %s "$page")
[ "$size" -lt 1048576 ] && ok "the page is under 1 MiB" || bad "the page is $size bytes"
if grep -qiE '<script|<link|<img|<iframe|src=|url\(|href="http' "$page"; then bad "the page loads or runs something"
else ok "self-contained: no script, link, image or URL"; fi
for want in '<svg class="closeup"' '<svg class="latency-points"' 'Close-up of fault 1: stop n1' \
  '>fault</text>' '>heal</text>' '<g class="op op-ok"' 'operations are drawn'; do
  grep -qF "$want" "$page" && ok "page has $want" || bad "page lacks $want"
done
# The close-up's RTO: the measured one (result.json) drawn as "RTO <figure>".
rto_ms=$(sed -n 's/.*"rto_ms": \([0-9]*\).*/\1/p' "$rd/result.json" | head -1)
[ -n "$rto_ms" ] && [ "$rto_ms" -gt 0 ] && ok "result.json: RTO $rto_ms ms, a number" || bad "no RTO figure in result.json"
# each SVG is one line of the page
grep -o '<svg class="closeup".*</svg>' "$page" >"$work/closeup.svg"
grep -q '<g class="rto">.*>RTO [0-9.]*m\{0,1\}s</text>' "$work/closeup.svg" && ok "the close-up marks the RTO" ||
  bad "the close-up lacks the RTO marker"
n=$(grep -o '<svg class="latency-points".*</svg>' "$page" | grep -o '<circle cx="[0-9]*" cy="[0-9]*" r="2"/>' | wc -l)
[ "$n" -ge 1000 ] && ok "$n operations drawn as points" || bad "only $n points"
bars=$(grep -o '<rect ' "$work/closeup.svg" | wc -l)
[ "$bars" -ge 50 ] && ok "the close-up has $bars fine bars" || bad "the close-up has $bars bars"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "SKIP: $chromium is missing (apt-get install chromium): the page checks above ran, the rendering did not"
  finish || exit 1
  exit 77
fi
browse() { # browse ARGS...: headless Chromium with no network, a profile of its own
  timeout 120 unshare -n "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log"
}
browse --dump-dom "file://$page" >"$work/dom.html"
grep -q '<svg class="closeup"' "$work/dom.html" && ok "Chromium's DOM has the close-up SVG" || bad "the DOM lacks the close-up"
# parsed as SVG elements: the serialised DOM closes each <circle/> as <circle ...></circle>
n=$(grep -o '<circle cx="[0-9]*" cy="[0-9]*" r="2"></circle>' "$work/dom.html" | wc -l)
[ "$n" -ge 1000 ] && ok "Chromium parsed $n points" || bad "Chromium parsed $n points"
grep -q '<g class="rto">' "$work/dom.html" && ok "the DOM has the RTO marker" || bad "the DOM lacks the RTO marker"

browse --screenshot="$work/page.png" --window-size=1400,2400 "file://$page" >/dev/null
if python3 "$here/png_check.py" "$work/page.png" 1400 2400; then ok "screenshot: a valid, non-blank 1400x2400 PNG"
else bad "the screenshot"; sed 's/^/  | /' "$work/chromium.log" | tail -5; fi
[ -n "${REPORTS_SCREENSHOT:-}" ] && cp "$work/page.png" "$REPORTS_SCREENSHOT"
# the check can fail: a blank page's screenshot is rejected
printf '<!DOCTYPE html><title>blank</title>\n' >"$work/blank.html"
browse --screenshot="$work/blank.png" --window-size=1400,2400 "file://$work/blank.html" >/dev/null
if python3 "$here/png_check.py" "$work/blank.png" 1400 2400 >/dev/null; then bad "png_check.py accepted a blank page"
else ok "png_check.py rejects a blank page"; fi
finish
