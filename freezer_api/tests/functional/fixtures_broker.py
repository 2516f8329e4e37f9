"""The RabbitMQ the notification checks consume from, and a consumer.

The broker is named by ``FREEZER_FUNC_RABBIT_URL``
(``rabbit://user:pw@host:port/``, as .ci/run exports it); unset, the
tests that need it skip (:func:`rabbit_url` is None).

The servers publish with oslo.messaging's ``messagingv2`` driver
(:func:`server_conf`) on the exchange ``openstack`` (oslo.messaging's
default control_exchange), routing key ``notifications.info``. A
:class:`Listener` binds a queue of its own (exclusive, removed when it
disconnects) to that exchange for ``notifications.*``: every priority,
so that one that must not come would be seen. The servers' own default
queue ``notifications.info`` is left to them (a second consumer of it
would take messages from any other).
"""

import json
import os
import socket
import time
import urllib.parse
import uuid

RABBIT_URL_ENV = 'FREEZER_FUNC_RABBIT_URL'
EXCHANGE = 'openstack'          # oslo.messaging's default control_exchange
ROUTING_KEYS = 'notifications.*'


def rabbit_url():
    """The broker's URL, or None when the environment names none."""
    return os.environ.get(RABBIT_URL_ENV) or None


def skip_reason():
    return (f'{RABBIT_URL_ENV} is not set: this test needs a RabbitMQ '
            '(.ci/run starts one and sets it)')


def server_conf(url):
    """The freezer-api config section that sends notifications to
    ``url``."""
    return ('[oslo_messaging_notifications]\n'
            'driver = messagingv2\n'
            f'transport_url = {url}\n')


def kombu_url(url):
    """oslo.messaging's ``rabbit://`` URL as kombu's ``amqp://`` one."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ('rabbit', 'amqp'):
        raise ValueError(f'{RABBIT_URL_ENV}: not a rabbit:// URL')
    return urllib.parse.urlunsplit(('amqp',) + tuple(parts[1:]))


def publisher():
    """The publisher_id of every notification of a server on this host."""
    return 'backup.%s' % socket.gethostname()


def check_envelope(test, message):
    """What every notification's envelope says (``message`` as a
    :class:`Listener` received it): messagingv2, priority info, from
    this host's freezer-api, no credentials anywhere in it."""
    test.assertEqual('2.0', message['oslo.version'])
    test.assertEqual('notifications.info', message['routing_key'])
    test.assertEqual('INFO', message['priority'])
    test.assertEqual(publisher(), message['publisher_id'])
    test.assertTrue(message.get('message_id'), message)
    test.assertTrue(message.get('timestamp'), message)
    test.assertNotIn('user_credentials', message['raw'])
    test.assertNotIn('trust_id', message['raw'])


class Listener:
    """A consumer of the notifications exchange, on a queue of its own.

    Bound when made: it receives what is published from then on, kept
    by the broker (and the connection) until :meth:`drain` takes it into
    ``received``, a list of the messages' contents (the oslo message's
    keys, and ``routing_key``, ``oslo.version``, ``raw``, the oslo
    message as sent, and ``taken_at``, the time.monotonic() of the
    drain that took it). The connection has no heartbeat: it may stay
    undrained for as long as a test class runs.
    """

    def __init__(self, url):
        import kombu  # oslo.messaging's rabbit driver depends on it

        self.connection = kombu.Connection(kombu_url(url),
                                           connect_timeout=10)
        self.connection.connect()
        channel = self.connection.channel()
        # As oslo.messaging's notify_send declares it (defaults).
        exchange = kombu.Exchange(EXCHANGE, type='topic', durable=False,
                                  auto_delete=False)
        self.queue = kombu.Queue(
            f'freezer-func-notifications-{uuid.uuid4().hex[:12]}',
            exchange=exchange, routing_key=ROUTING_KEYS, exclusive=True,
            auto_delete=True, durable=False, channel=channel)
        self.queue.declare()
        self.received = []
        self.consumer = kombu.Consumer(channel, queues=[self.queue],
                                       callbacks=[self._on_message],
                                       accept=['json'])
        self.consumer.consume()

    def _on_message(self, body, message):
        # messagingv2: {"oslo.version": "2.0", "oslo.message": "<JSON>"}
        if isinstance(body, (bytes, str)):
            body = json.loads(body)
        inner = json.loads(body['oslo.message'])
        self.received.append({
            'routing_key': message.delivery_info.get('routing_key'),
            'oslo.version': body.get('oslo.version'),
            'raw': body['oslo.message'],
            'taken_at': time.monotonic(),
            **inner})
        message.ack()

    def drain(self, seconds):
        """Take what arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.connection.drain_events(timeout=min(left, 0.5))
            except TimeoutError:
                pass

    def close(self):
        try:
            self.connection.release()
        except Exception:  # noqa: BLE001,S110 - the broker may be gone
            pass
