"""Functional tests: real freezer-api, Keystone and client processes.

Everything runs on 127.0.0.1. See ``base.py`` for the shared services and
``fixtures_keystone.py``, ``fixtures_server.py`` and ``fixtures_client.py``
for the harness itself.
"""
