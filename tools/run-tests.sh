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

log=$(mktemp -d)/tests.log
failures=0
timings=()

run() {
    local name=$1; shift
    local started=$SECONDS
    echo "=== $name" | tee -a "$log"
    "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        echo "=== $name FAILED (exit $rc)"
        failures=$((failures + 1))
    fi
    # How long each step took, to see where a slow run spends its time.
    timings+=("$name: $((SECONDS - started)) s")
}

run "style checks" python3 -m tox -e pep8
# The documentation, the API reference and the release notes, built with
# warnings as errors.
run "documentation" python3 -m tox -e docs
run "API reference" python3 -m tox -e api-ref
run "release notes" python3 -m tox -e releasenotes
run "unit tests (SQLite)" env -u FREEZER_TEST_DB_URL python3 -m tox -e py3
# $FREEZER_TEST_DB_URLS: server URLs separated by spaces (.ci/run gives a
# PostgreSQL and a MariaDB one); $FREEZER_TEST_DB_URL: one.
for db_url in ${FREEZER_TEST_DB_URLS:-${FREEZER_TEST_DB_URL:-}}; do
    run "unit tests (${db_url%%:*})" env FREEZER_TEST_DB_URL="$db_url" \
        python3 -m tox -e py3
done
# The functional tests run once per database: SQLite, then each server of
# $FREEZER_TEST_DB_URLS (every test's freezer-api servers get a fresh
# database there). On the servers, the tempest groups that spend minutes
# driving freezer-agent (not the API), the central scheduler's run and the
# RBAC matrix with real tokens (Keystone and policy, the same on every
# database) are left to the SQLite pass.
# test_tempest.py writes the plugin's per-test list, and the functional
# tests their figures (writes acknowledged/lost, versions, outage codes),
# to the files below; they are printed after the steps and kept out of the
# log, whose stestr summaries alone make the counts below.
results=$(dirname "$log")
SQLITE_ONLY='test_tempest\.TempestPluginTest\.test_(agent|scenario)'
SQLITE_ONLY+='|test_central_scheduler\.|test_rbac_keystone\.'
functional() {
    local name=$1 db_url=$2; shift 2
    run "functional tests ($name)" env FREEZER_FUNC_DB_URL="$db_url" \
        FREEZER_FUNC_FIGURES="$results/figures-$name.txt" \
        FREEZER_FUNC_TEMPEST_RESULTS="$results/tempest-$name.txt" \
        python3 -m tox -e functional -- "$@"
}
functional sqlite ""
for db_url in ${FREEZER_TEST_DB_URLS:-${FREEZER_TEST_DB_URL:-}}; do
    functional "${db_url%%[+:]*}" "$db_url" --exclude-regex "$SQLITE_ONLY"
done
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
echo "=== time of each step"
printf '%s\n' "${timings[@]}"

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
