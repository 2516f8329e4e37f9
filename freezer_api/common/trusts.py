"""Keystone trusts for the centralized scheduler, through keystoneauth1.

A central freezer-scheduler runs as a service user (the *trustee*: the
user of ``[centralized_scheduler] auth_section``) and acts in a job's
project through a trust from the job's creator (the *trustor*). The API
makes that trust when the job is created, with the creator's own token,
and deletes it with the last job that uses it.

Keystone's answers are mapped to the caller's faults here: what the
caller's credentials cannot give is 422 "Missing required credentials";
Keystone unreachable, slow or failing is 503 with Retry-After. Nothing
logged here carries a token, a password or a trust id (Keystone's error
texts and keystoneauth's name URLs with trust ids in them, so only their
status or class is logged).
"""

from collections.abc import Callable
import dataclasses
import datetime
import logging
import threading
import typing
import urllib.parse

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading
from keystoneauth1 import plugin
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from keystoneauth1.identity import v3
from oslo_config import cfg
from oslo_log import log
from oslo_utils import timeutils

from freezer_api.common import context as freezer_context
from freezer_api.common import exception

LOG = log.getLogger(__name__)

T = typing.TypeVar('T')

# Seconds a call to Keystone may take, unless the auth section sets
# http_connect_timeout (keystonemiddleware's option of the same meaning).
DEFAULT_TIMEOUT = 10
# Keystone's answers that mean "not with these credentials": the token
# cannot be scoped to the project, a role is unknown or not held.
CREDENTIAL_ERRORS = (400, 401, 403, 404)
TRUSTS_PATH = '/OS-TRUST/trusts'
# keystoneauth's debug dump of the trust calls shows trust ids (in URLs
# and bodies): those calls log through this logger, which says nothing
# below WARNING whatever the log levels of keystoneauth.
HTTP_LOG = logging.getLogger(__name__ + '.http')
HTTP_LOG.setLevel(logging.WARNING)


@dataclasses.dataclass(frozen=True)
class Grant:
    """The trust of a job: what the job stores, and whether this request
    made it (only then may a failed request delete it again)."""

    credentials: dict[str, str]
    created: bool

    @property
    def trust_id(self) -> str:
        return self.credentials['trust_id']


def _option(conf: cfg.ConfigOpts, section: str, name: str,
            default: typing.Any = None) -> typing.Any:
    """``[section] name`` if that option exists, else ``default``."""
    try:
        value = conf[section][name]
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, KeyError):
        return default
    return default if value is None else value


def _unavailable(what: str,
                 error: Exception) -> exception.IdentityUnavailable:
    LOG.warning('Keystone is unavailable, could not %s: %s', what,
                _summary(error))
    return exception.IdentityUnavailable()


def _summary(error: Exception) -> str:
    """What may be logged of a keystoneauth error: its class and status
    (its text may hold a URL with a trust id in it)."""
    status = getattr(error, 'http_status', None)
    name = type(error).__name__
    return name if status is None else '%s (HTTP %s)' % (name, status)


def _keystone_call(what: str, call: Callable[..., T], *args: typing.Any,
                   **kwargs: typing.Any) -> T:
    """``call(*args, **kwargs)`` with keystoneauth's errors mapped to the
    caller's faults."""
    try:
        return call(*args, **kwargs)
    except ks_exc.HttpError as error:
        if error.http_status in CREDENTIAL_ERRORS:
            LOG.info('Keystone refused to %s: %s', what, _summary(error))
            raise exception.MissingCredentials(
                reason='Keystone refused to %s (HTTP %s): the caller must '
                'hold the delegated roles on the project.'
                % (what, error.http_status)) from None
        raise _unavailable(what, error) from None
    except ks_exc.ClientException as error:
        # Connection refused or timed out, TLS, discovery, malformed
        # answers: nothing the caller could change.
        raise _unavailable(what, error) from None


class Trustee:
    """The service user of ``[centralized_scheduler] auth_section``.

    Its auth plugin and session are made once and kept for the process:
    keystoneauth re-authenticates the plugin when its token expires.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self._lock = threading.Lock()
        self._session: ks_session.Session | None = None
        self._identity_url: str | None = None

    def _section(self) -> str:
        return self.conf.centralized_scheduler.auth_section

    def _load_session(self) -> ks_session.Session:
        section = self._section()
        try:
            loading.register_auth_conf_options(self.conf, section)
            auth = loading.load_auth_from_conf_options(self.conf, section)
        except (ks_exc.ClientException, cfg.Error) as error:
            LOG.error('The trustee cannot be loaded from [%s]: %s', section,
                      type(error).__name__)
            auth = None
        if auth is None:
            raise exception.MissingCredentials(
                reason='The service user that trusts are given to cannot '
                'be derived from the configuration section [%s].'
                % section)
        cafile = _option(self.conf, section, 'cafile')
        insecure = _option(self.conf, section, 'insecure', False)
        certfile = _option(self.conf, section, 'certfile')
        keyfile = _option(self.conf, section, 'keyfile')
        return ks_session.Session(
            auth=auth,
            verify=False if insecure else (cafile or True),
            cert=(certfile, keyfile) if certfile and keyfile else certfile,
            timeout=_option(self.conf, section, 'http_connect_timeout',
                            DEFAULT_TIMEOUT),
            discovery_cache={})

    def session(self) -> ks_session.Session:
        """The trustee's keystoneauth session (made on first use)."""
        with self._lock:
            if self._session is None:
                self._session = self._load_session()
            return self._session

    def user_id(self) -> str | None:
        """The trustee's user id; 422 when its credentials are refused.

        None when its auth plugin has no user (keystoneauth's answer).
        """
        session = self.session()
        try:
            return session.get_user_id()
        except ks_exc.HttpError as error:
            if error.http_status not in CREDENTIAL_ERRORS:
                raise _unavailable('authenticate the trustee', error) from None
            LOG.error('Keystone refused the credentials of [%s]: %s',
                      self._section(), _summary(error))
            raise exception.MissingCredentials(
                reason='The service user that trusts are given to cannot '
                'authenticate; check the configuration section [%s].'
                % self._section()) from None
        except ks_exc.ClientException as error:
            raise _unavailable('authenticate the trustee', error) from None

    def identity_url(self) -> str:
        """Keystone's v3 API URL, found from the trustee's auth_url."""
        with self._lock:
            url = self._identity_url
        if url is None:
            url = _keystone_call(
                'find the identity API', self.session().get_endpoint,
                interface=plugin.AUTH_INTERFACE, version=(3, 0))
            if not url:
                raise _unavailable('find the identity API',
                                   ks_exc.DiscoveryFailure())
            url = url.rstrip('/')
            with self._lock:
                self._identity_url = url
        return url


class Trusts:
    """Make, reuse and delete the trusts of jobs, for one configuration."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self.trustee = Trustee(conf)

    def _caller_session(self, token: str,
                        project_id: str | None = None
                        ) -> ks_session.Session:
        """A session authenticated as the caller with its own token:
        re-scoped to ``project_id`` when given (Keystone then checks the
        caller's roles there, and returns them), else as it is."""
        url = self.trustee.identity_url()
        trustee = self.trustee.session()
        auth: plugin.BaseAuthPlugin
        if project_id is None:
            auth = token_endpoint.Token(url, token)
        else:
            auth = v3.Token(auth_url=url, token=token,
                            project_id=project_id)
        return ks_session.Session(auth=auth, session=trustee.session,
                                  verify=trustee.verify, cert=trustee.cert,
                                  timeout=trustee.timeout)

    def ensure(self, context: freezer_context.RequestContext,
               project_id: str) -> Grant:
        """The trust from the caller to the trustee on ``project_id``: an
        existing one, else a new one.

        :raises MissingCredentials: no token, no trustee, or a role the
            caller does not hold (422).
        :raises IdentityUnavailable: Keystone cannot answer (503).
        """
        if not context.auth_token:
            raise exception.MissingCredentials(
                reason='A trust for the central scheduler needs the '
                'caller\'s Keystone token.')
        trustee_id = self.trustee.user_id()
        url = self.trustee.identity_url()
        session = self._caller_session(context.auth_token, project_id)
        # Given a project, _caller_session authenticates with a v3.Token.
        auth = typing.cast(v3.Token, session.auth)
        access = _keystone_call('scope the caller\'s token to the project',
                                auth.get_access, session)
        # Optional in keystoneauth; a Keystone v3 token names its user.
        trustor_id = typing.cast(str, access.user_id)
        found = self._find(session, url, trustor_id, trustee_id, project_id)
        if found is not None:
            LOG.info('Reusing the trust of user %s on project %s',
                     trustor_id, project_id)
            return Grant(_credentials(found, trustor_id), created=False)
        roles = self.conf.centralized_scheduler.trusts_delegated_roles
        if not roles:
            roles = access.role_names
        body = {'trust': {
            'trustor_user_id': trustor_id,
            'trustee_user_id': trustee_id,
            'project_id': project_id,
            'impersonation': False,
            'allow_redelegation': False,
            'roles': [{'name': name} for name in roles],
        }}
        response = _keystone_call(
            'create a trust delegating %s' % ', '.join(roles),
            session.post, url + TRUSTS_PATH, json=body, logger=HTTP_LOG)
        trust = _json(response, 'create a trust').get('trust') or {}
        if not trust.get('id'):
            raise _unavailable('create a trust',
                               ks_exc.InvalidResponse(response))
        LOG.info('Trust created from user %s on project %s',
                 trustor_id, project_id)
        return Grant(_credentials(trust, trustor_id), created=True)

    def _find(self, session: ks_session.Session, url: str, trustor_id: str,
              trustee_id: str | None,
              project_id: str) -> dict[str, typing.Any] | None:
        """A usable trust of the trustor to the trustee on the project."""
        query = urllib.parse.urlencode({'trustor_user_id': trustor_id})
        response = _keystone_call('list the caller\'s trusts', session.get,
                                  '%s%s?%s' % (url, TRUSTS_PATH, query),
                                  logger=HTTP_LOG)
        for trust in _json(response, 'list trusts').get('trusts') or ():
            if (trust.get('trustee_user_id') == trustee_id and
                    trust.get('project_id') == project_id and
                    trust.get('remaining_uses') is None and
                    not _expired(trust.get('expires_at'))):
                return trust
        return None

    def delete(self, context: freezer_context.RequestContext,
               trust_id: str) -> None:
        """Delete a trust with the caller's token; a failure is logged and
        otherwise ignored (the request that deletes it has done its
        work)."""
        if not context.auth_token:
            LOG.warning('A trust was kept: the request had no token to '
                        'delete it with')
            return
        try:
            url = self.trustee.identity_url()
            session = self._caller_session(context.auth_token)
            session.delete('%s%s/%s' % (url, TRUSTS_PATH,
                                        urllib.parse.quote(trust_id)),
                           logger=HTTP_LOG)
        except ks_exc.NotFound:
            LOG.info('A trust to delete was already gone from Keystone')
            return
        except ks_exc.ClientException as error:
            LOG.warning('A trust could not be deleted from Keystone and '
                        'was kept: %s', _summary(error))
            return
        except exception.FreezerException:
            LOG.warning('A trust could not be deleted from Keystone and '
                        'was kept')
            return
        LOG.info('Deleted a trust from user %s', context.user_id)


def _json(response: typing.Any, what: str) -> typing.Any:
    try:
        return response.json()
    except ValueError:
        raise _unavailable(what,
                           ks_exc.InvalidResponse(response)) from None


def _credentials(trust: dict[str, typing.Any],
                 trustor_id: str) -> dict[str, str]:
    return {'trust_id': trust['id'],
            'trustor_user_id': trust.get('trustor_user_id') or trustor_id}


def _expired(expires_at: str | None) -> bool:
    if not expires_at:
        return False
    try:
        when = timeutils.parse_isotime(expires_at)
    except ValueError:
        return True
    return when <= datetime.datetime.now(datetime.timezone.utc)


_TRUSTS: dict[int, tuple[cfg.ConfigOpts, Trusts]] = {}
_LOCK = threading.Lock()


def get_trusts(conf: cfg.ConfigOpts) -> Trusts:
    """The :class:`Trusts` of ``conf``, made once per configuration (the
    trustee's session is kept with it)."""
    with _LOCK:
        found = _TRUSTS.get(id(conf))
        if found is None or found[0] is not conf:
            found = (conf, Trusts(conf))
            _TRUSTS[id(conf)] = found
        return found[1]


def reset() -> None:
    """Forget every configuration's trusts (tests)."""
    with _LOCK:
        _TRUSTS.clear()


def check_config(conf: cfg.ConfigOpts) -> None:
    """Log, once, a setting that cannot take effect."""
    if (conf.auth_strategy == 'noauth' and
            conf.centralized_scheduler.enabled and
            conf.centralized_scheduler.enforce_trusts):
        LOG.warning('[centralized_scheduler] enforce_trusts is set, but '
                    'with auth_strategy = noauth there is no Keystone: jobs '
                    'are stored without trusts')
