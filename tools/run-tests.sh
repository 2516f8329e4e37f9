#!/bin/bash
# Install the test tooling (tox) and run the whole test suite:
#   - style checks (ruff + hacking),
#   - unit and API tests on SQLite, and again on each database server named
#     by $FREEZER_TEST_DB_URLS or $FREEZER_TEST_DB_URL (PostgreSQL, MySQL),
#   - functional tests against real processes (freezer-api, Keystone,
#     python-freezerclient, and the upstream freezer-tempest-plugin).
# The last line is the total: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check 'tox>=4' || exit 1

log=$(mktemp -d)/tests.log
failures=0

run() {
    local name=$1; shift
    echo "=== $name"
    "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        echo "=== $name FAILED (exit $rc)"
        failures=$((failures + 1))
    fi
}

run "style checks" python3 -m tox -e pep8
run "unit tests (SQLite)" env -u FREEZER_TEST_DB_URL python3 -m tox -e py3
# $FREEZER_TEST_DB_URLS: server URLs separated by spaces (.ci/run gives a
# PostgreSQL and a MariaDB one); $FREEZER_TEST_DB_URL: one.
for db_url in ${FREEZER_TEST_DB_URLS:-${FREEZER_TEST_DB_URL:-}}; do
    run "unit tests (${db_url%%:*})" env FREEZER_TEST_DB_URL="$db_url" \
        python3 -m tox -e py3
done
# test_tempest.py writes the plugin's per-test list here. It is printed
# after the step and kept out of the log, whose stestr summaries alone
# make the counts below.
export FREEZER_FUNC_TEMPEST_RESULTS="$(dirname "$log")/tempest-results.txt"
run "functional tests" python3 -m tox -e functional
if [ -s "$FREEZER_FUNC_TEMPEST_RESULTS" ]; then
    echo "=== freezer-tempest-plugin, test by test"
    cat "$FREEZER_FUNC_TEMPEST_RESULTS"
fi

passed=$(awk '/^ - Passed: [0-9]+$/ {n += $3} END {print n + 0}' "$log")
failed=$(awk '/^ - Failed: [0-9]+$/ {n += $3} END {print n + 0}' "$log")
if [ "$failures" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # A run that failed before counting (install, lint) still fails.
    failed=$failures
fi
echo
echo "${passed} passed, ${failed} failed"
[ "$failures" -eq 0 ]
