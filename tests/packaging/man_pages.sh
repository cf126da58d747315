#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# man_pages.sh MAN_DIR EDGEFLEETD EDGEFLEET_AGENT EDGEFLEETCTL -- the generated man pages
# (packaging/CMakeLists.txt, `PROGRAM --help-man SECTION`) render without a warning (man -l),
# have a whatis entry (lexgrog), and name every option the program's --help names: as a flag
# in the program's page, as `name = VALUE` in the config file's page.
set -uo pipefail
dir=$1 server=$2 agent=$3 ctl=$4
fail=0
bad() { echo "FAIL: $*"; fail=1; }
command -v man >/dev/null || { echo "SKIP: man not found (apt-get install man-db)"; exit 77; }

for page in edgefleetd.8 edgefleetd.conf.5 edgefleet-agent.8 edgefleet-agent.conf.5 edgefleetctl.1; do
  f=$dir/$page
  [ -s "$f" ] || { bad "$page missing"; continue; }
  warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
  [ -z "$warn" ] || bad "$page: groff warnings: $warn"
  lexgrog "$f" >/dev/null 2>&1 || bad "$page: no whatis entry (lexgrog)"
  grep -q 'a bare number is seconds' <(MANWIDTH=200 man -l "$f" 2>/dev/null) ||
    bad "$page does not say that a bare duration is seconds"
  echo "$page: $(wc -l < "$f") lines, $(MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l) rendered"
done

# flags of a --help text: the lines "  --name ..." (cfg_usage_line)
flags() { "$1" --help | sed -nE 's/^  --([a-z0-9][a-z0-9.-]*).*/\1/p' | sort -u; }
# the flag as roff writes it: \fB\-\-name\fR (a table row) or .B/.BI \-\-name (a request)
roff_flag() { printf '(\\\\fB|^\\.BI? )%s(\\\\fR| |$)' "\\\\-\\\\-${1//-/\\\\-}"; }

check() { # PROGRAM PAGE [CONF_PAGE]
  local n=0
  for fl in $(flags "$1"); do
    n=$((n + 1))
    grep -qE "$(roff_flag "$fl")" "$dir/$2" || bad "$2 lacks --$fl (in $1 --help)"
    [ -n "${3:-}" ] && [ "$fl" != config ] || continue
    key=${fl//-/_}
    grep -qF "\\fB${key//-/\\-}\\fR = " "$dir/$3" || bad "$3 lacks $key (--$fl in $1 --help)"
  done
  echo "$(basename "$1"): $n options of --help in $2${3:+ and $3}"
  [ $n -ge 10 ] || bad "$1 --help: only $n options found"
}
check "$server" edgefleetd.8 edgefleetd.conf.5
check "$agent" edgefleet-agent.8 edgefleet-agent.conf.5
check "$ctl" edgefleetctl.1
[ $fail -eq 0 ] && echo PASS
exit $fail
