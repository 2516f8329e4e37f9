"""Seeded databases of every size for the three servers, cached.

For each server the sizes are seeded in increasing order, each from a
copy of the previous size's file adding only the difference
(:func:`dataset.plan`), by that server's own seeder run in its own Python:

* ours: ``seed_ours.py`` with the tox env's Python (our database layer,
  and its bulk writer checked against it);
* reference: ``freezer-manage db sync``, then ``seed_ref.py`` with the
  reference virtualenv's Python (the reference's database layer);
* floor: ``floor.py seed`` (direct sqlite3).

The three seeders run at the same time. A seeded file is kept in
``<bench dir>/seed-cache/<key>/`` and reused when the key matches: a hash
of the code that decides its content (for ours every ``.py`` file of
``freezer_api`` outside the tests, so the migrations and the database
layer included; the reference's version; the seeders, ``dataset.py``) and
of the seed parameters (the sizes up to this one, the DELETE pool). The
measured servers run on copies, so a cached file is never changed. Older
keys of a server are removed.
"""

import concurrent.futures
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import time

import servers

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _files_digest(paths):
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_digest(server):
    """A digest of the code that decides what ``server``'s seeded files
    hold."""
    bench = [HERE / 'dataset.py', HERE / 'seeding.py']
    if server == 'ours':
        package = [p for p in (ROOT / 'freezer_api').rglob('*.py')
                   if 'tests' not in p.relative_to(ROOT).parts]
        return _files_digest(package + bench + [HERE / 'seed_ours.py'])
    if server == 'reference':
        return _files_digest(bench + [HERE / 'seed_ref.py']) + \
            servers.REF_VERSION
    return _files_digest(bench + [HERE / 'floor.py'])


class Seeder:
    """Seeds one server's files, size after size."""

    def __init__(self, server, cache_root, pool, venv=None):
        self.server = server
        self.pool = pool
        self.venv = venv
        self.code = code_digest(server)
        self.cache_root = cache_root
        self.log = []

    def key(self, sizes):
        spec = json.dumps({'code': self.code, 'sizes': sizes,
                           'pool': self.pool})
        return hashlib.sha256(spec.encode()).hexdigest()[:16]

    def path(self, sizes):
        """The cached file of the last of ``sizes``, grown through the
        others."""
        return (self.cache_root / self.server / self.key(sizes) /
                ('%d.sqlite' % sizes[-1]))

    def ensure(self, sizes):
        """The file of every size (cached or seeded now): {size: path}."""
        paths = {}
        for n in range(1, len(sizes) + 1):
            chain = sizes[:n]
            target = self.path(chain)
            if not target.exists():
                previous = paths.get(sizes[n - 2]) if n > 1 else None
                self._seed(previous, target, chain)
            else:
                self.log.append({'size': chain[-1], 'cached': True})
            paths[chain[-1]] = target
        self._prune({p.parent for p in paths.values()})
        return paths

    def _seed(self, previous, target, chain):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix('.partial')
        servers.fresh(partial)
        if previous is not None:
            servers.copy_database(previous, partial)
        start = chain[-2] if len(chain) > 1 else 0
        t0 = time.perf_counter()
        out = self._run(partial, start, chain[-1])
        servers.copy_database(partial, target)
        servers.fresh(partial)
        entry = {'size': chain[-1], 'cached': False, 'from': start,
                 'seconds': time.perf_counter() - t0}
        entry.update(out)
        self.log.append(entry)
        servers.log('seeded %s %d -> %d in %.1f s (%s)' % (
            self.server, start, chain[-1], entry['seconds'],
            out.get('method', 'direct')))

    def _run(self, db, start, stop):
        spec = {'start': start, 'stop': stop, 'pool': self.pool}
        if self.server == 'ours':
            cmd = [sys.executable, '-W', 'ignore', str(HERE / 'seed_ours.py'),
                   json.dumps(dict(spec, url='sqlite:///%s' % db))]
            env = None
        elif self.server == 'reference':
            conf = servers.reference_conf(db.parent, db)
            if start == 0:
                servers.sync_reference(self.venv, conf, db, db.parent)
            cmd = [str(self.venv / 'bin' / 'python'),
                   str(HERE / 'seed_ref.py'),
                   json.dumps(dict(spec, conf=str(conf)))]
            env = servers.clean_env()
        else:
            cmd = [sys.executable, str(HERE / 'floor.py'), 'seed',
                   json.dumps(dict(spec, db=str(db)))]
            env = None
        res = subprocess.run(cmd, capture_output=True, text=True, env=env,
                             cwd=db.parent)
        if res.returncode:
            raise RuntimeError('seeding %s failed:\n%s' % (
                self.server, res.stderr[-5000:]))
        return json.loads(res.stdout.strip().splitlines()[-1])

    def _prune(self, keep):
        """Remove the server's cached files of other keys."""
        root = self.cache_root / self.server
        for entry in root.iterdir():
            if entry.is_dir() and entry not in keep:
                shutil.rmtree(entry, ignore_errors=True)


def ensure_all(bench_dir, sizes, pool, venv, names):
    """{server: {size: seeded file}} and {server: seeding log}, the
    servers seeded in parallel."""
    cache = bench_dir / 'seed-cache'
    seeders = {name: Seeder(name, cache, pool, venv) for name in names}
    with concurrent.futures.ThreadPoolExecutor(len(seeders)) as pool_:
        futures = {name: pool_.submit(s.ensure, sizes)
                   for name, s in seeders.items()}
        paths = {name: f.result() for name, f in futures.items()}
    return paths, {name: s.log for name, s in seeders.items()}
