"""Build the functional tests' venvs and Keystone snapshot ahead of a run.

    python -m freezer_api.tests.functional.prepare

Optional: the tests build whatever is missing themselves, but then the
first test process does it while the others wait. This builds the venvs
(Keystone, clients, Horizon, tempest) in parallel, then the Keystone
snapshot, and prints the timings.
"""

import sys
import time

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_keystone


def main():
    t0 = time.monotonic()
    venvs = base.VenvsFixture()
    venvs.setUp()
    for name, seconds in venvs.seconds.items():
        print(f'{name} venv: {seconds:.1f}s')
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
