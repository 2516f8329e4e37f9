"""No secret in any freezer-api log of the run.

The module's name sorts last, so that it runs after every other test of
its stestr worker: it reads the logs of every freezer-api server the run
started (the stopped ones' copies in fixtures_server.run_log_dir(), and
the shared servers' live files). The Keystone-mode servers log at debug
level, where a token or a password would show if anything logged one.
"""

import os
import re

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_keystone
from freezer_api.tests.functional import fixtures_server

# A Fernet token, as Keystone issues them (a URL-safe base64 blob that
# starts with version byte 0x80).
FERNET = re.compile(r'gAAAAA[A-Za-z0-9_-]{40,}')


def _server_logs():
    paths = set()
    for root, _, files in os.walk(fixtures_server.run_log_dir()):
        paths.update(os.path.join(root, name) for name in files)
    for shared in base.shared_fixtures():
        for server in getattr(shared, 'servers', ()):
            paths.update((server.log_file, server.out_file))
    return sorted(p for p in paths if os.path.exists(p))


class LogSecretsTest(base.FunctionalTestCase):

    needs_client = False

    def test_no_token_or_password_in_any_server_log(self):
        # Make sure a token has gone through the debug-level servers.
        response = self.http('GET', self.v2_path('actions'), user='alice')
        self.assertEqual(200, response.status_code, response.text)
        secrets = {fixtures_keystone.ADMIN_PASSWORD}
        secrets.update(pw for pw, _, _ in self.keystone.users.values())
        secrets.update(self.keystone.issued_tokens())
        paths = _server_logs()
        found, size = [], 0
        for path in paths:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
            size += len(text)
            for secret in secrets:
                if secret in text:
                    found.append(f'{path}: {secret[:12]}...')
            found += [f'{path}: token-like {m[:12]}...'
                      for m in FERNET.findall(text)]
        self.figures('server logs checked for secrets', logs=len(paths),
                     bytes=size, secrets_looked_for=len(secrets),
                     found=len(found))
        self.assertGreater(len(paths), 2)
        self.assertEqual([], found)
