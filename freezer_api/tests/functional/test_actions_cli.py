"""Actions through the real ``freezer`` CLI and raw HTTP, real Keystone.

Users (see fixtures_keystone.USERS): alice is member of project-a, bob
member of project-b, rita reader of project-a.
"""

import copy
import json
import os
import subprocess

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_client

# api-ref sample "actions-create-request.json"
ACTION_CREATE_SAMPLE = {
    "freezer_action": {
        "backup_name": "production_backup",
        "container": "prod_container",
        "no_incremental": True,
        "path_to_backup": "/etc/",
        "snapshot": True,
        "action": "backup",
        "remove_older_than": 365,
        "log_file": "/var/log/freezer/job0001.log",
    },
    "max_retries": 5,
    "max_retries_interval": 6,
}


def _ids(listing):
    return [row['Action ID'] for row in listing]


class ActionsCliKeystoneTest(base.FunctionalTestCase):

    auth_strategy = 'keystone'

    def _actions_path(self, user='alice'):
        return f'/v2/{self.project_id(user)}/actions'

    def create_action(self, user='alice', backup_name=None):
        """``freezer action-create --file`` with the api-ref sample."""
        doc = copy.deepcopy(ACTION_CREATE_SAMPLE)
        doc['freezer_action']['backup_name'] = (
            backup_name or self.unique('backup'))
        shown = self.cli_json('action-create', '--file', self.write_json(doc),
                              user=user)
        action_id = shown['Action ID']
        self.assertTrue(action_id)
        # best effort: keep the shared database small
        self.addCleanup(self.http, 'DELETE',
                        f'{self._actions_path(user)}/{action_id}', user=user)
        return action_id, doc, shown

    # ---------------------------------------------------------- alice
    def test_create_show_list(self):
        action_id, doc, shown = self.create_action()
        fa = doc['freezer_action']
        self.assertEqual(fa['backup_name'], shown['Name'])
        self.assertEqual('backup', shown['Action'])
        self.assertEqual('/etc/', shown['Path to Backup or Restore'])
        self.assertEqual('prod_container', shown['Container'])
        self.assertEqual(5, shown['Max_retries'])
        self.assertEqual(6, shown['Max_retries_interval'])
        self.assertEqual(self.project_id('alice'), shown['Project_id'])
        self.assertEqual(self.keystone.user_ids['alice'], shown['User_id'])

        self.assertEqual(shown, self.cli_json('action-show', action_id))
        self.assertIn(action_id, _ids(self.cli_json('action-list')))

    def test_list_search(self):
        id1, doc1, _ = self.create_action()
        id2, _, _ = self.create_action()
        search = json.dumps(
            [{"backup_name": doc1['freezer_action']['backup_name']}])
        found = self.cli_json('action-list', '--search', search)
        self.assertEqual([id1], _ids(found))
        everything = _ids(self.cli_json('action-list'))
        self.assertIn(id1, everything)
        self.assertIn(id2, everything)
        # creation order
        self.assertLess(everything.index(id1), everything.index(id2))

    def test_update_merges(self):
        action_id, doc, _ = self.create_action()
        new_name = self.unique('renamed')
        patch = {"freezer_action": {"backup_name": new_name},
                 "max_retries": 7}
        updated = self.cli_json('action-update', action_id,
                                self.write_json(patch))
        shown = self.cli_json('action-show', action_id)
        self.assertEqual(updated, shown)
        self.assertEqual(new_name, shown['Name'])
        self.assertEqual(7, shown['Max_retries'])
        # fields the patch does not name are kept
        self.assertEqual(6, shown['Max_retries_interval'])
        self.assertEqual('prod_container', shown['Container'])
        self.assertEqual('/etc/', shown['Path to Backup or Restore'])
        self.assertIs(True, shown['Snapshot'])
        raw = self.http('GET', f'{self._actions_path()}/{action_id}',
                        user='alice')
        self.assertEqual(200, raw.status_code, raw.text)
        fa = raw.json()['freezer_action']
        expected = dict(doc['freezer_action'], backup_name=new_name)
        for key, value in expected.items():
            self.assertEqual(value, fa.get(key), key)

    def test_delete(self):
        action_id, _, _ = self.create_action()
        rc, out, err = self.cli('action-delete', action_id)
        self.assertEqual(0, rc, err)
        rc, out, err = self.cli('action-show', action_id)
        self.assertNotEqual(0, rc)
        self.assertIn('not found', (out + err).lower())
        self.assertNotIn(action_id, _ids(self.cli_json('action-list')))

    def test_show_unknown_is_404_json(self):
        rc, out, err = self.cli('action-show', 'no-such-action')
        self.assertNotEqual(0, rc)
        self.assertIn('not found', (out + err).lower())
        resp = self.http('GET', self._actions_path() + '/no-such-action',
                         user='alice')
        self.assertEqual(404, resp.status_code)
        self.assertEqual({'title', 'description'}, set(resp.json()))

    # ---------------------------------------------- another project
    def test_other_project_cannot_see_or_change(self):
        action_id, doc, shown = self.create_action()
        patch_file = self.write_json({"max_retries": 1})

        rc, out, err = self.cli('action-show', action_id, user='bob')
        self.assertNotEqual(0, rc)
        self.assertIn('not found', (out + err).lower())
        rc, out, err = self.cli('action-update', action_id, patch_file,
                                user='bob')
        self.assertNotEqual(0, rc)
        self.assertIn('not found', (out + err).lower())
        # DELETE is 204 also when the item is absent (SPEC.md), and for bob
        # it is absent: the CLI succeeds, but nothing of alice's goes.
        rc, out, err = self.cli('action-delete', action_id, user='bob')
        self.assertEqual((0, ''), (rc, out), err)
        self.assertNotIn(action_id,
                         _ids(self.cli_json('action-list', user='bob')))

        # alice's action is untouched
        self.assertEqual(shown, self.cli_json('action-show', action_id))

        # bob's token on project-a's URLs
        collection = self._actions_path('alice')
        item = f'{collection}/{action_id}'
        for method, path, body in (('GET', collection, None),
                                   ('GET', item, None),
                                   ('POST', collection, ACTION_CREATE_SAMPLE),
                                   ('PATCH', item, {"max_retries": 1}),
                                   ('DELETE', item, None)):
            resp = self.http(method, path, user='bob', json=body)
            self.assertEqual(403, resp.status_code, f'{method} {path}')
        self.assertEqual(shown, self.cli_json('action-show', action_id))

    # ------------------------------------------------- authentication
    def test_missing_token_is_401(self):
        resp = self.http('GET', self._actions_path())
        self.assertEqual(401, resp.status_code)

    def test_forged_token_is_401(self):
        resp = self.http('GET', self._actions_path(), token='garbage')
        self.assertEqual(401, resp.status_code)

    # --------------------------------------------------------- reader
    def test_reader_can_read_not_write(self):
        action_id, _, shown = self.create_action()
        path = self._actions_path('rita')
        self.assertEqual(self._actions_path('alice'), path)

        resp = self.http('GET', path, user='rita', params={'limit': 1000})
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertIn(action_id,
                      [a['action_id'] for a in resp.json()['actions']])
        resp = self.http('GET', f'{path}/{action_id}', user='rita')
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual(action_id, resp.json()['action_id'])
        self.assertEqual(shown, self.cli_json('action-show', action_id,
                                              user='rita'))

        resp = self.http('POST', path, user='rita',
                         json=ACTION_CREATE_SAMPLE)
        self.assertEqual(403, resp.status_code, resp.text)


# Run by the client venv's python: the python-freezerclient API against the
# noauth server, with a keystoneauth NoAuth session.
_NOAUTH_PY_API = r"""
import json, sys
from keystoneauth1 import noauth, session
from freezerclient.v2.client import Client

url, project, name = sys.argv[1:4]
c = Client(session=session.Session(auth=noauth.NoAuth()), endpoint=url,
           project_id=project)
aid = c.actions.create({"freezer_action": {"action": "backup",
                                           "backup_name": name,
                                           "path_to_backup": "/etc/"},
                        "max_retries": 3})
got = c.actions.get(aid)
listed = [a["action_id"] for a in c.actions.list(limit=100)]
searched = [a["action_id"] for a in c.actions.list(
    limit=100, search={"match": [{"backup_name": name}]})]
c.actions.delete(aid)
print(json.dumps({"id": aid, "got": got, "listed": listed,
                  "searched": searched, "after": c.actions.get(aid)}))
"""


class ActionsNoauthTest(base.FunctionalTestCase):

    auth_strategy = 'noauth'

    def test_root_is_300(self):
        resp = self.http('GET', '/')
        self.assertEqual(300, resp.status_code, resp.text)

    def test_python_api_crud(self):
        project = self.unique('proj')
        name = self.unique('pyapi')
        rc, out, err = self.client.run_python(
            _NOAUTH_PY_API, [self.server.url, project, name])
        self.assertEqual(0, rc, err)
        res = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(res['id'], res['got']['action_id'])
        self.assertEqual(name, res['got']['freezer_action']['backup_name'])
        self.assertEqual(3, res['got']['max_retries'])
        self.assertEqual(project, res['got']['project_id'])
        self.assertEqual([res['id']], res['listed'])
        self.assertEqual([res['id']], res['searched'])
        self.assertIsNone(res['after'])

    def test_openstack_cli_quick_start(self):
        """README: openstack --os-auth-type none --os-endpoint .../v2/P."""
        project = self.unique('proj')
        name = self.unique('osc')
        openstack = os.path.join(self.client.path, 'bin', 'openstack')
        common = ['--os-auth-type', 'none', '--os-endpoint',
                  '%s/v2/%s' % (self.server.url, project)]
        doc = self.write_json({'freezer_action': {
            'action': 'backup', 'mode': 'fs', 'backup_name': name}})

        def run(*args):
            res = subprocess.run(  # noqa: S603
                [openstack] + common + list(args), capture_output=True,
                text=True, timeout=120, stdin=subprocess.DEVNULL,
                env=fixtures_client.client_env())
            self.assertEqual(0, res.returncode, res.stderr)
            return res.stdout

        created = json.loads(run('backup', 'action', 'create', '--file', doc,
                                 '-f', 'json'))
        self.assertEqual((name, 'backup', project), (
            created['Name'], created['Action'], created['Project_id']))
        listed = json.loads(run('backup', 'action', 'list', '-f', 'json'))
        self.assertEqual([(created['Action ID'], name)],
                         [(row['Action ID'], row['Name']) for row in listed])
