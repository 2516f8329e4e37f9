"""WSGI entry point of the reference freezer-api for the benchmark.

Loaded by gunicorn in the reference's own virtualenv (it imports the
reference's ``freezer_api``, not ours). The reference's
``freezer_api.wsgi`` parses ``sys.argv`` (gunicorn's command line here), so
this module parses the config file named by ``FREEZER_BENCH_REF_CONF``
instead and loads the ``main`` application of the paste file that config
names: the reference's own pipeline without ``authtoken``. The load
generator sends the headers keystonemiddleware would set
(``X-Identity-Status: Confirmed``, ``X-Project-Id``, ``X-User-Id``,
``X-Roles``).
"""

import os

from paste import deploy

from freezer_api.common import config

config.parse_args(
    args=['--config-file', os.environ['FREEZER_BENCH_REF_CONF']])
config.setup_logging()
application = deploy.loadapp('config:%s' % config.find_paste_config(),
                             name='main')
