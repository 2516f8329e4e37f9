"""The latency plot of the report: p50 versus project size.

One panel per main scenario, the three servers as three lines (an open
marker where a server was measured by one request only), the size on
a logarithmic x axis (and the latency on a logarithmic y axis: the
reference's searches are two to three orders of magnitude slower than the
rest). matplotlib with the Agg backend: no display needed.
"""

import matplotlib

matplotlib.use('Agg')
from matplotlib import ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402  (after the backend)
import report  # noqa: E402

PANELS = ('get_action', 'list_actions', 'search_actions', 'scheduler_poll',
          'get_job', 'patch_job')
STYLE = {'reference': ('tab:red', 's'), 'ours': ('tab:blue', 'o'),
         'floor': ('tab:gray', '^')}


def latency_plot(res, titles, path, mode='conc'):
    """Write the PNG at ``path``; returns the scenarios drawn."""
    panels = [p for p in PANELS if p in res.scenarios]
    cols = 3 if len(panels) > 4 else 2
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows),
                             squeeze=False)
    for ax, name in zip(axes.flat, panels, strict=False):
        for server in report.SERVERS:
            color, marker = STYLE[server]
            points = [(n, res.get(n, name, server, mode, 'p50'))
                      for n in res.sizes]
            points = [(n, v) for n, v in points if v is not None]
            if points:
                ax.plot([n for n, _ in points], [v for _, v in points],
                        marker=marker, color=color, label=server)
            # Not measured under load: the one request it was measured
            # by, as an open marker.
            single = [(n, res.get(n, name, server, 'seq', 'p50'))
                      for n in res.sizes if res.skipped(n, name, server)]
            single = [(n, v) for n, v in single if v is not None]
            if single:
                ax.plot([n for n, _ in single], [v for _, v in single],
                        linestyle='none', marker=marker, color=color,
                        markerfacecolor='none',
                        label='%s, 1 request' % server)
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.set_xticks(res.sizes)
        ax.set_xticklabels([report.size_label(n) for n in res.sizes])
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(
            lambda v, _pos: '%g' % v))
        ax.yaxis.set_minor_locator(ticker.NullLocator())
        ax.set_title(titles[name], fontsize=10)
        ax.set_xlabel('documents in the project')
        ax.set_ylabel('p50 latency (ms)')
        ax.grid(True, which='major', alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax in list(axes.flat)[:len(panels)]:
        ax.legend(fontsize=7)
    fig.suptitle('p50 latency with 8 concurrent clients, by project size',
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return panels
