"""Work a process does on its own every few seconds, in a daemon thread.

The thread is started when first needed, not at import: a server's
workers fork after importing the application, and a thread does not
survive a fork, so each process starts its own.
"""

from collections.abc import Callable
import threading
import time

from oslo_log import log

LOG = log.getLogger(__name__)


class Periodic:
    """Call ``work()`` every ``interval()`` seconds in a daemon thread
    named ``name``; a failure is logged (``failure``, a warning) and the
    work is tried again the next time."""

    def __init__(self, name: str, work: Callable[[], object],
                 interval: Callable[[], float], failure: str) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.failure = failure
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        """Start the thread unless this process runs it already."""
        if self.thread is not None and self.thread.is_alive():
            return
        with self._lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._forever,
                                               name=self.name, daemon=True)
                self.thread.start()

    def _forever(self) -> None:
        while True:
            time.sleep(self.interval())
            try:
                self.work()
            except Exception:
                LOG.warning(self.failure, exc_info=True)
