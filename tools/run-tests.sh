#!/bin/bash
# Install the test tooling (tox) and run the whole test suite:
#   - style checks (ruff + hacking, mypy, bandit, bashate),
#   - the documentation, API reference and release notes built,
#   - unit and API tests on SQLite, and again on each database server named
#     by $FREEZER_TEST_DB_URLS or $FREEZER_TEST_DB_URL (PostgreSQL, MySQL),
#   - functional tests against real processes (two freezer-api servers of
#     two workers on one database, Keystone, python-freezerclient,
#     freezer-scheduler/agent, Horizon, the upstream freezer-tempest-plugin,
#     concurrency and fault tests), on SQLite and on each of those
#     database servers.
# The last line is the total: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check 'tox>=4' || exit 1

results=$(mktemp -d)
log=$results/tests.log

# run NAME COMMAND...: one step of the current lane. Its output goes to
# the lane's log ($lane_log, unprefixed: the counts below are read from
# it) and, each line prefixed by the lane's name, to the terminal; its
# time and a failure go to files, as the lanes are subshells.
run() {
    local name=$1; shift
    local started=$SECONDS
    echo "=== $name" >>"$lane_log"
    echo "[$lane] === $name"
    "$@" 2>&1 | tee -a "$lane_log" | sed -u "s/^/[$lane] /"
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        echo "[$lane] === $name FAILED (exit $rc)"
        echo "$name" >>"$results/failed-steps"
    fi
    # How long each step took, to see where a slow run spends its time.
    echo "$name: $((SECONDS - started)) s ($lane)" >>"$results/timings"
}

# The packages and dependencies of the environments the lanes share are
# installed first, once: a tox run installs freezer-api in development
# mode (writing its metadata into the tree), which must not happen while
# the other lane's servers start from it. Later runs skip that install.
lane=setup lane_log=$results/setup.log
run "test environments" python3 -m tox -e py3,functional,docs --notest
tox_run=(python3 -m tox --skip-pkg-install)

# $FREEZER_TEST_DB_URLS: server URLs separated by spaces (.ci/run gives a
# PostgreSQL and a MariaDB one); $FREEZER_TEST_DB_URL: one.
db_urls=(${FREEZER_TEST_DB_URLS:-${FREEZER_TEST_DB_URL:-}})

# The functional tests run once per database: SQLite, then each server of
# $FREEZER_TEST_DB_URLS (every test's freezer-api servers get a fresh
# database there). On the servers, the tempest groups that spend minutes
# driving freezer-agent (not the API), the central scheduler's run and the
# RBAC matrix with real tokens (Keystone and policy, the same on every
# database) are left to the SQLite pass.
# test_tempest.py writes the plugin's per-test list, and the functional
# tests their figures (writes acknowledged/lost, versions, outage codes),
# to the files below; they are printed after the steps and kept out of the
# log, whose stestr summaries alone make the counts below. Each pass has
# a stestr repository of its own, as two passes run at once.
SQLITE_ONLY='test_tempest\.TempestPluginTest\.test_(agent|scenario)'
SQLITE_ONLY+='|test_central_scheduler\.|test_rbac_keystone\.'
functional() {
    local name=$1 db_url=$2; shift 2
    mkdir -p ".stestr-functional-$name"
    run "functional tests ($name)" env FREEZER_FUNC_DB_URL="$db_url" \
        FREEZER_FUNC_FIGURES="$results/figures-$name.txt" \
        FREEZER_FUNC_TEMPEST_RESULTS="$results/tempest-$name.txt" \
        FREEZER_STESTR_REPO=".stestr-functional-$name" \
        "${tox_run[@]}" -e functional -- "$@"
}
functional_on_server() {
    functional "${1%%[+:]*}" "$1" --exclude-regex "$SQLITE_ONLY"
}

# Two lanes at once, as much of a functional pass is waiting (on the
# schedulers' intervals, on Keystone, on the browser): the checks and the
# unit passes, then the functional pass of the second server; the
# functional pass on SQLite, then that of the first server. Whatever two
# passes share across processes (the heavy virtualenvs, the tempest
# plugin's fixed paths) is taken under a file lock by the tests.
lane_a() {
    lane=A lane_log=$results/lane-a.log
    run "style checks" python3 -m tox -e pep8
    # The documentation, the API reference and the release notes, built
    # with warnings as errors.
    run "documentation" "${tox_run[@]}" -e docs
    run "API reference" python3 -m tox -e api-ref
    run "release notes" python3 -m tox -e releasenotes
    run "unit tests (SQLite)" env -u FREEZER_TEST_DB_URL "${tox_run[@]}" -e py3
    local db_url
    for db_url in "${db_urls[@]}"; do
        run "unit tests (${db_url%%:*})" env FREEZER_TEST_DB_URL="$db_url" \
            "${tox_run[@]}" -e py3
    done
    if [ ${#db_urls[@]} -gt 1 ]; then
        functional_on_server "${db_urls[1]}"
    fi
}
lane_b() {
    lane=B lane_log=$results/lane-b.log
    functional sqlite ""
    if [ ${#db_urls[@]} -gt 0 ]; then
        functional_on_server "${db_urls[0]}"
    fi
    local db_url
    for db_url in "${db_urls[@]:2}"; do
        functional_on_server "$db_url"
    done
}
lane_a &
lane_a_pid=$!
lane_b &
lane_b_pid=$!
wait "$lane_a_pid" "$lane_b_pid"
cat "$results/setup.log" "$results/lane-a.log" "$results/lane-b.log" >"$log"
failures=$(cat "$results/failed-steps" 2>/dev/null | wc -l)

# show KIND TITLE: print each $results/KIND-<database>.txt under a title.
show() {
    local file name
    for file in "$results/$1"-*.txt; do
        [ -s "$file" ] || continue
        name=${file##*/$1-}
        echo "=== $2 on ${name%.txt}"
        cat "$file"
    done
}
show tempest "freezer-tempest-plugin, test by test,"
show figures "figures of the functional tests"
echo "=== time of each step (lanes A and B ran at once)"
cat "$results/timings"

passed=$(awk '/^ - Passed: [0-9]+$/ {n += $3} END {print n + 0}' "$log")
failed=$(awk '/^ - Failed: [0-9]+$/ {n += $3} END {print n + 0}' "$log")
if [ "$failures" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # A run that failed before counting (install, lint) still fails.
    failed=$failures
fi
echo
# The failures last, each with the end of its traceback, before the count.
python3 tools/failed-tests.py "$log"
echo "${passed} passed, ${failed} failed"
[ "$failures" -eq 0 ]
