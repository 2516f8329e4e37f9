"""Faults on the production topology: the database goes away under load,
Keystone is unreachable, a worker is killed, a server is stopped.

Each test runs its own servers (it stops or kills them), two freezer-api
servers of two workers each on a fresh database, and prints its figures
(see utils.report_figures).
"""

import collections
import concurrent.futures
import json
import os
import re
import signal
import socket
import threading
import time
import types
import uuid

import requests

from freezer_api.tests.functional import base
from freezer_api.tests.functional import fixtures_db
from freezer_api.tests.functional import fixtures_server
from freezer_api.tests.functional import utils

PROJECT = 'faults'
MEMBER = utils.member_headers(PROJECT)
# What an error body must never show.
INTERNALS = re.compile(r'psycopg|pymysql|sqlite|sqlalchemy|oslo_db|'
                       r'Traceback|SELECT |INSERT |UPDATE ', re.IGNORECASE)


class _FaultTestCase(base.FunctionalTestCase):

    auth_strategy = 'noauth'
    needs_client = False

    def group(self, **kwargs):
        return self.useFixture(fixtures_server.FreezerApiGroupFixture(
            'noauth', **kwargs))

    def assertJsonError(self, response, status):
        self.assertEqual(status, response.status_code, response.text)
        body = response.json()
        self.assertEqual({'title', 'description'}, set(body), body)
        self.assertIsNone(INTERNALS.search(response.text), response.text)

    @staticmethod
    def documents(url, resource, search=None):
        """Every document of ``resource`` in PROJECT, from ``url``."""
        found, offset = [], 0
        while True:
            response = requests.get(
                f'{url}/v2/{PROJECT}/{resource}?limit=1000&offset={offset}',
                json=search, headers=MEMBER, timeout=60)
            response.raise_for_status()
            page = response.json()[resource]
            found += page
            if len(page) < 1000:
                return found
            offset += len(page)


class DatabaseOutageTest(_FaultTestCase):
    """The database server stops for a while under steady writes."""

    WRITERS = 4
    BEFORE, OUTAGE, AFTER = 2.0, 6.0, 6.0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if fixtures_db.backend() not in fixtures_db.PRIVATE_SERVERS:
            raise cls.skipException(
                'needs a database server to stop: runs in the PostgreSQL '
                'and MariaDB passes (FREEZER_FUNC_DB_URL)')

    def test_writes_during_an_outage(self):
        database = self.useFixture(
            fixtures_db.PRIVATE_SERVERS[fixtures_db.backend()]())
        group = self.group(db_server=database.url)
        log_sizes = {fx.log_file: os.path.getsize(fx.log_file)
                     for fx in group.servers}
        results = []  # (time, marker, status, response text, headers)
        lock = threading.Lock()
        stop = threading.Event()

        def writer(index):
            session = requests.Session()
            n = 0
            while not stop.is_set():
                marker = f'w{index}-{n}'
                n += 1
                try:
                    response = session.post(
                        f'{group.urls[n % 2]}/v2/{PROJECT}/actions',
                        json=utils.fs_backup_action(marker), headers=MEMBER,
                        timeout=30)
                    got = (response.status_code, response.text,
                           dict(response.headers))
                except requests.RequestException as e:
                    got = (None, repr(e), {})
                with lock:
                    results.append((time.monotonic(), marker) + got)

        health = []

        def watch_health():
            while not stop.is_set():
                health.append((time.monotonic(), utils.http_status(
                    group.url + '/healthcheck', timeout=5)))
                time.sleep(0.25)

        with concurrent.futures.ThreadPoolExecutor(self.WRITERS + 1) as pool:
            futures = [pool.submit(writer, i) for i in range(self.WRITERS)]
            futures.append(pool.submit(watch_health))
            time.sleep(self.BEFORE)
            down_at = time.monotonic()
            database.stop()
            time.sleep(self.OUTAGE)
            database.start()
            up_at = time.monotonic()
            time.sleep(self.AFTER)
            stop.set()
            for future in futures:
                future.result(timeout=120)

        during = [r for r in results if down_at + 0.5 < r[0] < up_at]
        failed = [r for r in results if r[2] != 201]
        codes = collections.Counter(r[2] for r in failed)
        recovered = [r[0] for r in results if r[0] > up_at and r[2] == 201]
        recovery = (min(recovered) - up_at) if recovered else None
        acked = {r[1] for r in results if r[2] == 201}
        # A write whose commit lost its connection may have been stored:
        # the answer says so, and only those may be refused yet present.
        unknown = {r[1] for r in failed if r[2] == 503
                   and 'may or may not have been stored' in r[3]}
        present = {doc['freezer_action']['backup_name']
                   for doc in self.documents(group.url, 'actions')}
        log_lines = self.new_log_lines(log_sizes)
        # One line per failed request (and a few for the outage itself),
        # never a traceback.
        # oslo.utils logs, in one line, an exception replaced by another
        # (a deadlock whose rollback found the connection gone): that is a
        # line for one request, not a traceback of ours.
        tracebacks = [i for i, line in enumerate(log_lines)
                      if 'Traceback' in line
                      and 'Original exception being dropped' not in line]
        self.figures(
            'database stopped under 4 writers',
            outage_seconds=round(up_at - down_at, 1),
            writes_answered=len(results), writes_acknowledged=len(acked),
            acknowledged_lost=len(acked - present),
            refused_but_present=len(present - acked - unknown),
            outcome_unknown=len(unknown),
            outcome_unknown_stored=len(unknown & present),
            error_codes=dict(codes), recovery_seconds=(
                round(recovery, 2) if recovery is not None else None),
            healthcheck_during=sorted({s for t, s in health
                                       if down_at + 0.5 < t < up_at}),
            log_lines=len(log_lines), tracebacks=len(tracebacks))
        self.assertNotEqual([], during, 'no request during the outage')
        # A request that got no answer at all (None): what the servers
        # logged of their workers and errors, from their start, says why
        # (a worker killed by a signal, for one); it comes first, as a
        # summary of the failure may keep only its start.
        self.assertEqual({503}, set(codes), '\n'.join([
            line for line in self.new_log_lines(dict.fromkeys(log_sizes, 0))
            if re.search(r'[Ww]orker|ERROR|CRITICAL|Fatal', line)
            and 'Booting worker' not in line][:40] + [
            repr((round(r[0] - down_at, 2),) + r[1:4])
            for r in failed if r[2] != 503][:5] + [repr(codes)]))
        for _, marker, _, text, headers in failed:
            self.assertEqual('5', headers.get('Retry-After'), marker)
            self.assertEqual({'title', 'description'},
                             set(json.loads(text)))
            self.assertIsNone(INTERNALS.search(text), text)
        self.assertIsNotNone(recovery, 'no write succeeded afterwards')
        self.assertLess(recovery, 5.0)
        self.assertEqual(set(), acked - present, 'acknowledged, then lost')
        self.assertEqual(set(), present - acked - unknown,
                         'refused, yet stored')
        self.assertIn(503, [s for t, s in health if down_at + 0.5 < t < up_at])
        self.assertEqual(200, health[-1][1])
        self.assertEqual([], tracebacks, '\n'.join(
            log_lines[tracebacks[0] - 2:tracebacks[0] + 40]
            if tracebacks else []))
        self.assertLess(len(log_lines), 2 * len(failed) + 50)

    @staticmethod
    def new_log_lines(sizes):
        lines = []
        for path, size in sizes.items():
            with open(path, 'rb') as f:
                f.seek(size)
                lines += f.read().decode('utf-8', 'replace').splitlines()
        return lines


class KeystoneUnreachableTest(_FaultTestCase):

    auth_strategy = 'keystone'

    def test_503_when_keystone_cannot_be_reached(self):
        dead = types.SimpleNamespace(
            users=self.keystone.users,
            auth_url=f'http://{utils.HOST}:{utils.free_port()}/v3')
        server = self.useFixture(fixtures_server.FreezerApiServerFixture(
            'keystone', keystone=dead))
        token = self.keystone.token('alice')
        response = requests.get(
            f'{server.url}/v2/{self.project_id()}/actions',
            headers={'X-Auth-Token': token}, timeout=60)
        self.figures('keystone unreachable', status=response.status_code)
        self.assertJsonError(response, 503)
        self.assertNotIn(token, response.text)


class WorkerKilledTest(_FaultTestCase):
    """Workers are SIGKILLed while they write jobs with many actions."""

    ACTIONS = 40
    KILLS = 4

    def test_nothing_partial_after_sigkill(self):
        group = self.group()
        victim = group.servers[0]
        client_id = f'node-{uuid.uuid4().hex[:8]}'
        response = requests.post(
            f'{group.url}/v2/{PROJECT}/clients', headers=MEMBER,
            json={'client_id': client_id, 'hostname': client_id}, timeout=30)
        self.assertEqual(201, response.status_code, response.text)
        stop = threading.Event()
        answers = {}  # marker -> status (None: no answer)

        def writer(index):
            n = 0
            while not stop.is_set():
                marker = f'k{index}-{n}-{uuid.uuid4().hex[:6]}'
                n += 1
                body = {'client_id': client_id, 'description': marker,
                        'job_schedule': {'schedule_interval': '1 days'},
                        'job_actions': [
                            utils.fs_backup_action(f'{marker}-{i}', marker)
                            for i in range(self.ACTIONS)]}
                try:
                    status = requests.post(
                        f'{victim.url}/v2/{PROJECT}/jobs', json=body,
                        headers=MEMBER, timeout=60).status_code
                except requests.RequestException:
                    status = None
                answers[marker] = status

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(writer, i) for i in range(4)]
            killed = 0
            for _ in range(self.KILLS):
                time.sleep(1.0)
                pids = victim.worker_pids()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed += 1
            time.sleep(1.0)
            stop.set()
            for future in futures:
                future.result(timeout=120)
        jobs = {job['description']: job
                for job in self.documents(group.urls[1], 'jobs')}
        actions = collections.Counter(
            doc['freezer_action']['container']
            for doc in self.documents(group.urls[1], 'actions'))
        partial = [m for m in answers
                   if actions[m] not in (0, self.ACTIONS)
                   or (m in jobs) != (actions[m] == self.ACTIONS)]
        lost = [m for m, status in answers.items()
                if status == 201 and m not in jobs]
        self.figures('workers killed while writing jobs', kills=killed,
                     jobs_sent=len(answers),
                     jobs_acknowledged=list(answers.values()).count(201),
                     unanswered=list(answers.values()).count(None),
                     partial_jobs=len(partial), acknowledged_lost=len(lost))
        self.assertEqual(self.KILLS, killed)
        self.assertEqual([], partial)
        self.assertEqual([], lost)
        self.assertLessEqual(set(answers.values()), {201, None})
        # The master replaced the killed workers.
        utils.wait_for_http(victim.url + '/healthcheck', victim.proc,
                            [victim.log_file], timeout=30)


class GracefulStopTest(_FaultTestCase):
    """SIGTERM: requests already being received are finished."""

    IN_FLIGHT = 4

    def test_sigterm_finishes_requests_in_flight(self):
        group = self.group()
        victim = group.servers[0]
        markers = [f'term-{i}-{uuid.uuid4().hex[:6]}'
                   for i in range(self.IN_FLIGHT)]
        sockets = []
        for marker in markers:
            body = json.dumps(utils.fs_backup_action(marker)).encode()
            sock = socket.create_connection((utils.HOST, victim.port),
                                            timeout=30)
            sock.sendall(
                f'POST /v2/{PROJECT}/actions HTTP/1.1\r\n'
                f'Host: {utils.HOST}\r\nContent-Type: application/json\r\n'
                f'X-User-Id: writer\r\nX-Project-Id: {PROJECT}\r\n'
                f'X-Roles: member,reader\r\nConnection: close\r\n'
                f'Content-Length: {len(body)}\r\n\r\n'.encode()
                + body[:len(body) // 2])
            sockets.append((sock, body[len(body) // 2:]))
        time.sleep(0.5)
        victim.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        statuses = []
        for sock, rest in sockets:
            sock.sendall(rest)
            reply = b''
            while chunk := sock.recv(65536):
                reply += chunk
            sock.close()
            statuses.append(int(reply.split(b' ', 2)[1]) if reply else None)
        exit_code = victim.proc.wait(60)
        present = {doc['freezer_action']['backup_name']
                   for doc in self.documents(group.urls[1], 'actions')}
        self.figures('SIGTERM with requests in flight',
                     in_flight=self.IN_FLIGHT,
                     answered_201=statuses.count(201),
                     stored=len(present & set(markers)),
                     exit_code=exit_code)
        self.assertEqual([201] * self.IN_FLIGHT, statuses)
        self.assertEqual(set(markers), present & set(markers))
        self.assertEqual(0, exit_code)
