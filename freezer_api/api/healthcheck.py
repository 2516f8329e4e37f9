"""The healthcheck backend that reports whether the database answers."""

from oslo_log import log
from oslo_middleware.healthcheck import pluginbase

from freezer_api.common import context
from freezer_api.common import exception
from freezer_api.db import api as db_api

LOG = log.getLogger(__name__)


class DatabaseCheck(pluginbase.HealthcheckBaseExtension):
    """Healthy when the database answers a trivial query."""

    def healthcheck(self, server_port: int
                    ) -> pluginbase.HealthcheckResult:
        try:
            db_api.check_database(context.get_admin_context())
        except exception.FreezerException:
            # Logged already, in one line (a load balancer polls this).
            return self._unavailable()
        except Exception:
            LOG.exception('Healthcheck: the database does not answer')
            return self._unavailable()
        return pluginbase.HealthcheckResult(available=True,
                                            reason='Database OK')

    @staticmethod
    def _unavailable() -> pluginbase.HealthcheckResult:
        return pluginbase.HealthcheckResult(available=False,
                                            reason='Database unavailable')
