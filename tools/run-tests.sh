#!/bin/bash
# Install the test tooling (tox) and run the whole test suite:
#   - style checks (ruff + hacking),
#   - unit and API tests on SQLite, and again on the database named by
#     $FREEZER_TEST_DB_URL when it is set (PostgreSQL or MySQL),
#   - functional tests against real processes (freezer-api, Keystone,
#     python-freezerclient).
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
if [ -n "${FREEZER_TEST_DB_URL:-}" ]; then
    run "unit tests (${FREEZER_TEST_DB_URL%%:*})" python3 -m tox -e py3
fi
run "functional tests" python3 -m tox -e functional

passed=$(awk '/^ - Passed: [0-9]+$/ {n += $3} END {print n + 0}' "$log")
failed=$(awk '/^ - Failed: [0-9]+$/ {n += $3} END {print n + 0}' "$log")
if [ "$failures" -ne 0 ] && [ "$failed" -eq 0 ]; then
    # A run that failed before counting (install, lint) still fails.
    failed=$failures
fi
echo
echo "${passed} passed, ${failed} failed"
[ "$failures" -eq 0 ]
