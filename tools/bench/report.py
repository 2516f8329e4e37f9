"""The benchmark's report: targets, tables (text and reStructuredText).

Everything here is computed from the results ``run.py`` collects (also
saved as ``results.json``): no number in the report is typed by hand.
"""

import pathlib
import platform
import subprocess

import workload

SERVERS = ('reference', 'ours', 'floor')
LABEL = {'reference': 'ref', 'ours': 'ours', 'floor': 'floor'}


# --- helpers shared with free_text.py ----------------------------------------

OUTPUTS = ('doc/source/performance.rst', 'doc/source/performance-latency.png')


def git_revision(root):
    """The short HEAD, and whether tracked files had uncommitted
    changes."""
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                             cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        # The bench's own outputs, which the first of its two steps has
        # rewritten when the second asks, are no uncommitted code.
        dirty = subprocess.run(['git', 'status', '--porcelain',
                                '--untracked-files=no', '--', '.']
                               + [':!' + path for path in OUTPUTS],
                               cwd=root, capture_output=True,
                               text=True).stdout.strip()
        return rev + (' with uncommitted changes' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def cpu_model():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def fmt(value, digits=1):
    if value is None or value != value:
        return 'n/a'
    return '%.*f' % (digits, value)


def list_table(title, header, rows, widths):
    out = ['.. list-table:: %s' % title,
           '   :header-rows: 1',
           '   :widths: %s' % ' '.join(str(w) for w in widths), '']
    for row in [header] + rows:
        out.append('   * - %s' % row[0])
        out.extend('     - %s' % cell for cell in row[1:])
    out.append('')
    return out


def write_output(path, results, begin, end, title='Benchmark results'):
    """Put ``results`` between the ``begin`` and ``end`` markers of the
    file at ``path``, or write a new file of them under ``title``."""
    path = pathlib.Path(path)
    block = '%s\n\n%s\n\n%s\n' % (begin, results.rstrip('\n'), end)
    if path.exists():
        text = path.read_text()
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            tail = rest.split(end, 1)[1]
            path.write_text(head + block.rstrip('\n') + tail)
            return
    path.write_text('%s\n%s\n\n' % (title, '=' * len(title)) + block)


def size_label(size):
    return '%dk' % (size // 1000) if size % 1000 == 0 else str(size)


# --- reading the results -----------------------------------------------------

class Results:
    """Accessors over ``summary[size][scenario][server][mode][key]``
    (medians over the repetitions; mode 'conc' with 8 clients, 'seq'
    with one)."""

    def __init__(self, summary, sizes, scenarios):
        self.summary = summary
        self.sizes = sizes
        self.scenarios = scenarios

    def get(self, size, scenario, server, mode, key):
        cell = self.summary.get(size, {}).get(scenario, {}).get(server, {})
        got = (cell.get(mode) or {}).get(key)
        return None if got is None or got != got else got

    def skipped(self, size, scenario, server):
        cell = self.summary.get(size, {}).get(scenario, {}).get(server, {})
        return cell.get('skipped', '')

    def ratio(self, size, scenario, a, b, mode, key):
        x = self.get(size, scenario, a, mode, key)
        y = self.get(size, scenario, b, mode, key)
        return x / y if x is not None and y else None

    def bound(self, size, scenario, server, key):
        """For a server not measured under load (one request took too
        long), the best it could have done, from that one request: its
        throughput at most one request per CPU time of it (one worker
        process, a core at most), its p99 at least that request's
        latency, its CPU per request that request's."""
        if not self.skipped(size, scenario, server):
            return None
        if key == 'rps':
            cpu = self.get(size, scenario, server, 'seq', 'cpu_ms')
            return 1000.0 / cpu if cpu else None
        return self.get(size, scenario, server, 'seq', key)


# --- the targets (issue 8) ---------------------------------------------------

CPU_VS_REF = ('post_action', 'get_action', 'list_actions', 'patch_action',
              'delete_action', 'patch_job', 'post_backup')
CPU_VS_FLOOR = ('get_action', 'list_actions')
GROWTH = ('get_action', 'list_actions', 'search_actions', 'scheduler_poll')
SEARCHES = ('search_actions', 'scheduler_poll')
SEARCH_SIZE = 10000
PG_P99_MS = 50.0
RSS_MB = 50.0


def _target(text, measured, worst, limit, higher_is_better=False):
    """A row of the targets table: met when ``worst`` is within
    ``limit``; the factor says by how much it is missed."""
    if worst is None:
        return {'target': text, 'measured': measured, 'met': None,
                'factor': None}
    met = worst >= limit if higher_is_better else worst <= limit
    factor = (limit / worst if higher_is_better and worst else
              worst / limit if limit else None)
    return {'target': text, 'measured': measured, 'met': met,
            'factor': factor}


def _worst(values, higher_is_better=False):
    known = [v for v in values if v is not None]
    if not known:
        return None
    return min(known) if higher_is_better else max(known)


def _errors_note(res, size, scenario, servers):
    """' (ref: 12 errors)' when a server failed requests there."""
    notes = []
    for server in servers:
        errors = res.get(size, scenario, server, 'conc', 'errors')
        if errors:
            notes.append('%s: %d errors' % (LABEL[server], errors))
    return ' (%s)' % ', '.join(notes) if notes else ''


def _bounded_ratio(res, size, scenario, a, b, mode, key):
    """(ratio, '' or ' (ref bound)'): the measured ratio, else one with
    ``b``'s bound (:meth:`Results.bound`), which can only favour ``b``."""
    got = res.ratio(size, scenario, a, b, mode, key)
    x = res.get(size, scenario, a, mode, key)
    y = res.bound(size, scenario, b, key)
    if got is None and x is not None and y:
        return x / y, ' (%s bound)' % LABEL[b]
    return got, ''


def _ratio_target(res, text, scenario, a, b, mode, key, limit,
                  higher_is_better=False, sizes=None):
    sizes = sizes or res.sizes
    values, notes = [], []
    for n in sizes:
        got, note = _bounded_ratio(res, n, scenario, a, b, mode, key)
        values.append(got)
        notes.append(note + _errors_note(res, n, scenario, (a, b)))
    measured = ', '.join('%s %s%s' % (fmt(v, 2), size_label(n), note)
                         for n, v, note in zip(sizes, values, notes,
                                               strict=True))
    return _target(text, measured, _worst(values, higher_is_better), limit,
                   higher_is_better)


def targets(res, memory, pg):
    """Every target of issue 8 that this run measured, as rows."""
    titles = {s.name: s.short for s in workload.SCENARIOS}
    present = [s for s in res.scenarios]
    rows = []
    for name in CPU_VS_REF:
        if name in present:
            rows.append(_ratio_target(
                res, 'CPU/request %s <= 0.5x ref' % titles[name], name,
                'ours', 'reference', 'conc', 'cpu_ms', 0.5))
    for name in CPU_VS_FLOOR:
        if name in present:
            rows.append(_ratio_target(
                res, 'CPU/request %s <= 3x floor' % titles[name], name,
                'ours', 'floor', 'conc', 'cpu_ms', 3.0))
    for name in present:
        rows.append(_ratio_target(
            res, 'req/s %s >= 2x ref (8 clients)' % titles[name], name,
            'ours', 'reference', 'conc', 'rps', 2.0, higher_is_better=True))
    for name in present:
        rows.append(_ratio_target(
            res, 'p99 %s <= ref p99 (8 clients)' % titles[name], name,
            'ours', 'reference', 'conc', 'p99', 1.0))
    for name in SEARCHES:
        if name in present:
            sizes = [n for n in res.sizes if n == SEARCH_SIZE]
            rows.append(_ratio_target(
                res, 'req/s %s >= 20x ref at 10k' % titles[name], name,
                'ours', 'reference', 'conc', 'rps', 20.0,
                higher_is_better=True, sizes=sizes or [SEARCH_SIZE]))
    lo, hi = res.sizes[0], res.sizes[-1]
    for name in GROWTH:
        if name in present and hi > lo:
            a = res.get(lo, name, 'ours', 'conc', 'p50')
            b = res.get(hi, name, 'ours', 'conc', 'p50')
            growth = b / a if a and b is not None else None
            rows.append(_target(
                'p50 %s grows < 2x, %s to %s' % (
                    titles[name], size_label(lo), size_label(hi)),
                '%s ms to %s ms: x%s' % (fmt(a, 2), fmt(b, 2),
                                         fmt(growth, 2)),
                growth, 2.0))
    if hi > lo and 'ours' in memory.get(lo, {}):
        a = rss_mb(memory[lo]['ours'])
        b = rss_mb(memory[hi]['ours'])
        rows.append(_target(
            'peak RSS at %s within %d MB of %s' % (
                size_label(hi), RSS_MB, size_label(lo)),
            '%s MB to %s MB: %+.1f MB' % (fmt(a), fmt(b), b - a),
            b - a, RSS_MB))
    if pg:
        total = pg['summary']['all']
        rows.append(_target(
            '%d schedulers on PostgreSQL, p99 < %d ms' % (
                pg['clients'], PG_P99_MS),
            'p99 %s ms at %s req/s, %d errors' % (
                fmt(total['p99']), fmt(total['rate']), total['errors']),
            total['p99'] if not total['errors'] else float('inf'),
            PG_P99_MS))
    return rows


def verdict(row):
    if row['met'] is None:
        return 'not measured'
    if row['met']:
        return '**met**'
    if row['factor'] is None or row['factor'] == float('inf'):
        return '**missed**'
    return '**missed** (x%s)' % fmt(row['factor'], 2)


def rss_mb(mem):
    """Peak RSS (VmHWM) of the master plus the workers, in MB."""
    return (mem['master'] + sum(mem['workers'])) * 1024 / 1e6


# --- tables ------------------------------------------------------------------

def _cell(res, size, scenario, server, mode, key, digits=1):
    got = res.get(size, scenario, server, mode, key)
    if got is None and res.skipped(size, scenario, server) and \
            mode == 'conc':
        return 'skipped'
    return fmt(got, digits)


def load_table(res, size, titles):
    """Throughput and latency with 8 clients at one size."""
    header = ['Scenario'] + ['%s req/s' % LABEL[s] for s in SERVERS] + \
        ['ours/ref req/s', 'ours/floor req/s'] + \
        ['%s p50' % LABEL[s] for s in SERVERS] + \
        ['%s p99' % LABEL[s] for s in SERVERS]
    rows = []
    for name in res.scenarios:
        row = [titles[name]]
        row += [_cell(res, size, name, s, 'conc', 'rps') for s in SERVERS]
        row.append('**%s**' % fmt(res.ratio(size, name, 'ours', 'reference',
                                            'conc', 'rps'), 2))
        row.append(fmt(res.ratio(size, name, 'ours', 'floor', 'conc',
                                 'rps'), 2))
        row += [_cell(res, size, name, s, 'conc', 'p50') for s in SERVERS]
        row += [_cell(res, size, name, s, 'conc', 'p99') for s in SERVERS]
        rows.append(row)
    return list_table(
        '%s documents: throughput (req/s) and latency (ms) with 8 clients'
        % f'{size:,}', header, rows,
        [22] + [6] * 3 + [7, 7] + [6] * 6)


def cpu_table(res, size, titles):
    """Server CPU per request at one size, 8 clients and 1 client."""
    header = ['Scenario'] + ['%s (8)' % LABEL[s] for s in SERVERS] + \
        ['ours/ref (8)', 'ours/floor (8)'] + \
        ['%s (1)' % LABEL[s] for s in SERVERS] + ['ours/ref (1)']
    rows = []
    for name in res.scenarios:
        row = [titles[name]]
        row += [_cell(res, size, name, s, 'conc', 'cpu_ms', 2)
                for s in SERVERS]
        row.append('**%s**' % fmt(res.ratio(size, name, 'ours', 'reference',
                                            'conc', 'cpu_ms'), 2))
        row.append(fmt(res.ratio(size, name, 'ours', 'floor', 'conc',
                                 'cpu_ms'), 2))
        row += [_cell(res, size, name, s, 'seq', 'cpu_ms', 2)
                for s in SERVERS]
        row.append(fmt(res.ratio(size, name, 'ours', 'reference', 'seq',
                                 'cpu_ms'), 2))
        rows.append(row)
    return list_table(
        '%s documents: server CPU per request (ms, user + system of all '
        'server processes), with 8 clients and with 1 sequential client'
        % f'{size:,}', header, rows,
        [22] + [6] * 3 + [7, 7] + [6] * 3 + [7])


def growth_table(res, titles):
    """p50 (8 clients) by size, and the growth from first to last."""
    lo, hi = res.sizes[0], res.sizes[-1]
    header = ['Scenario', 'server'] + [size_label(n) for n in res.sizes] + \
        ['%s/%s' % (size_label(hi), size_label(lo)),
         '1 client p50 %s' % size_label(lo),
         '1 client p50 %s' % size_label(hi)]
    rows = []
    for name in res.scenarios:
        for server in SERVERS:
            p50 = [res.get(n, name, server, 'conc', 'p50') for n in res.sizes]
            growth = (p50[-1] / p50[0] if p50[0] and p50[-1] is not None
                      else None)
            rows.append([titles[name], LABEL[server]] +
                        [fmt(v, 2) for v in p50] + [fmt(growth, 2)] +
                        [fmt(res.get(n, name, server, 'seq', 'p50'), 2)
                         for n in (lo, hi)])
    return list_table('p50 latency (ms) with 8 clients by project size',
                      header, rows,
                      [22, 6] + [7] * len(res.sizes) + [7, 8, 8])


def memory_table(memory, sizes):
    header = ['Server'] + ['%s master / workers / sum' % size_label(n)
                           for n in sizes]
    rows = []
    for server in SERVERS:
        row = [LABEL[server]]
        for n in sizes:
            mem = memory.get(n, {}).get(server)
            if not mem:
                row.append('n/a')
                continue
            row.append('%s / %s / **%s**' % (
                fmt(mem['master'] * 1024 / 1e6),
                ' + '.join(fmt(w * 1024 / 1e6) for w in mem['workers']),
                fmt(rss_mb(mem))))
        rows.append(row)
    return list_table(
        'Peak resident memory (VmHWM, MB) of each server, restarted for '
        'each size, after all the scenarios of that size', header, rows,
        [12] + [20] * len(sizes))


def pg_table(pg):
    header = ['Request', 'count', 'req/s', 'p50', 'p95', 'p99', 'max',
              'p99 from send', 'errors']
    names = {'poll': 'poll (GET /jobs/ + search)',
             'patch_job': 'PATCH job (status report)',
             'post_backup': 'POST backup', 'all': '**all**'}
    rows = []
    for kind, stats in pg['summary'].items():
        rows.append([names.get(kind, kind), str(stats['count']),
                     fmt(stats['rate']), fmt(stats['p50']),
                     fmt(stats['p95']), fmt(stats['p99']),
                     fmt(stats['max']), fmt(stats['service_p99']),
                     str(stats['errors'])])
    return list_table(
        '%d simulated freezer-schedulers on PostgreSQL: requests scheduled '
        'in the %d s after the ramp; latency (ms) from the scheduled send '
        'time' % (pg['clients'], pg['duration']), header, rows,
        [24, 6, 6, 6, 6, 6, 6, 7, 6])


def targets_table(rows):
    return list_table(
        'Targets of issue 8 (ratios are ours/reference or ours/floor, per '
        'size)', ['Target', 'Measured', 'Verdict'],
        [[r['target'], r['measured'], verdict(r)] for r in rows],
        [30, 50, 14])


def text_summary(res, titles):
    """A plain-text table for the terminal: 8-client figures."""
    head = '%-24s %6s' % ('scenario', 'size') + ''.join(
        ' %8s' % ('%s r/s' % LABEL[s]) for s in SERVERS) + \
        ' %6s' % 'o/r' + ''.join(' %7s' % ('%s p50' % LABEL[s])
                                 for s in SERVERS) + \
        ''.join(' %7s' % ('%s cpu' % LABEL[s]) for s in SERVERS)
    lines = [head, '-' * len(head)]
    for name in res.scenarios:
        for size in res.sizes:
            lines.append(
                '%-24s %6s' % (titles[name][:24], size_label(size)) +
                ''.join(' %8s' % fmt(res.get(size, name, s, 'conc', 'rps'))
                        for s in SERVERS) +
                ' %6s' % fmt(res.ratio(size, name, 'ours', 'reference',
                                       'conc', 'rps'), 2) +
                ''.join(' %7s' % fmt(res.get(size, name, s, 'conc', 'p50'),
                                     2) for s in SERVERS) +
                ''.join(' %7s' % fmt(res.get(size, name, s, 'conc',
                                             'cpu_ms'), 2)
                        for s in SERVERS))
    return '\n'.join(lines)
