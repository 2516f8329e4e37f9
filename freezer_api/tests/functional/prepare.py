"""Build the functional tests' venvs and Keystone snapshot ahead of a run.

    python -m freezer_api.tests.functional.prepare

Optional: the tests build whatever is missing themselves, but then the
first test process does it while the others wait. This builds the Keystone
and client venvs in parallel (about 20 s instead of 40 s from nothing),
then the Keystone snapshot, and prints the timings.
"""

import concurrent.futures
import sys
import time

from freezer_api.tests.functional import fixtures_client
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import utils


def main():
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        ks = pool.submit(utils.ensure_venv, fixtures_keystone.keystone_venv(),
                         fixtures_keystone.KEYSTONE_REQUIREMENTS)
        cl = pool.submit(fixtures_client.ensure_client_venv)
        print(f'keystone venv {fixtures_keystone.keystone_venv()}: '
              f'{ks.result():.1f}s')
        print(f'client venv {fixtures_client.client_venv()}: '
              f'{cl.result():.1f}s')
    fx = fixtures_keystone.KeystoneFixture()
    fx.setUp()
    try:
        print(f"keystone {fx.auth_url} ({fx.timings['mode']}): "
              f"{fx.timings['start']:.1f}s")
    finally:
        t1 = time.monotonic()
        fx.cleanUp()
        print('keystone stop: %.1fs' % (time.monotonic() - t1))
    print('total: %.1fs' % (time.monotonic() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
