"""The Apache mod_wsgi sample in etc/freezer serves
freezer_api.wsgi.api:application from one daemon process group, at / and
(commented out) at /backup under a shared web server."""

import os
import shlex

from freezer_api.tests.unit import base
from freezer_api.tests.unit import helpers

ETC = helpers.ETC
MODULE_FILE = os.path.join('freezer_api', 'wsgi', 'api.py')


def directives(name, commented=False):
    """The arguments of every ``name`` directive of the mod_wsgi sample,
    the commented-out alternative's only when ``commented``."""
    found = []
    with open(os.path.join(ETC, 'freezer-api-mod_wsgi.conf')) as f:
        for line in f:
            words = shlex.split(line.strip(), posix=False)
            if commented and words[:1] == ['#']:
                words = words[1:]
            if words[:1] == [name]:
                found.append(words[1:])
    return found


def options(words):
    return dict(word.split('=', 1) for word in words if '=' in word)


class TestModWsgiSample(base.TestCase):

    def test_script_alias_names_the_wsgi_module(self):
        (alias,) = directives('WSGIScriptAlias')
        self.assertEqual('/', alias[0])
        self.assertTrue(alias[1].endswith('/site-packages/' + MODULE_FILE),
                        alias[1])
        self.assertEqual([['application']],
                         directives('WSGICallableObject'))
        with open(os.path.join(ETC, '..', '..', MODULE_FILE)) as f:
            self.assertIn('\napplication = ', f.read())

    def test_one_daemon_group_serves_the_alias(self):
        (daemon,) = directives('WSGIDaemonProcess')
        group = daemon[0]
        self.assertEqual('freezer-api', group)
        self.assertTrue({'processes', 'threads', 'user'} <=
                        set(options(daemon)))
        self.assertEqual([[group]], directives('WSGIProcessGroup'))
        (alias,) = directives('WSGIScriptAlias')
        self.assertEqual(group, options(alias)['process-group'])
        self.assertEqual([['%{GLOBAL}']],
                         directives('WSGIApplicationGroup'))

    def test_shared_server_alternative_serves_backup(self):
        aliases = [a for a in directives('WSGIScriptAlias', commented=True)
                   if a[0] == '/backup']
        self.assertEqual(1, len(aliases))
        self.assertTrue(aliases[0][1].endswith(MODULE_FILE))
        self.assertEqual('freezer-api', options(aliases[0])['process-group'])
