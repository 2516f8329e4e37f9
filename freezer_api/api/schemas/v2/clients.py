"""Schemas of /v2/{project_id}/clients bodies (the flat client object
python-freezerclient and freezer-scheduler post)."""

from freezer_api.api.schemas.v2 import common

SUPPORTED = {
    'supported_actions': common.SUPPORTED_ACTIONS,
    'supported_modes': common.SUPPORTED_MODES,
    'supported_storages': common.SUPPORTED_STORAGES,
    'supported_engines': common.SUPPORTED_ENGINES,
}

# The fields of a client, in the order the API shows them; other keys of
# a body are accepted and not stored.
FIELDS = ('client_id', 'hostname', 'description', 'uuid',
          'is_central') + tuple(SUPPORTED)

CLIENT = {
    '$schema': common.DRAFT,
    'title': 'client',
    'type': 'object',
    'description': 'A client registration. The api-ref\'s envelope '
                   '{"client": {...}, "client_id": ...} is accepted too: '
                   'the envelope and the client it holds must both be '
                   'valid.',
    'properties': dict({
        'client_id': common.CLIENT_ID,
        # null: a client shown without a host name can be posted back.
        'hostname': common.nullable(common.HOSTNAME),
        'description': common.nullable({'type': 'string',
                                         'maxLength': 65535}),
        'uuid': {'type': 'string', 'maxLength': 255},
        'is_central': {'type': 'boolean'},
        'config_id': {},
    }, **{name: {'type': 'array', 'uniqueItems': True,
                 'items': {'type': 'string', 'enum': values}}
          for name, values in SUPPORTED.items()}),
    # The api-ref sample and a shown client nest the client: {"client":
    # {...}}; the client of that form, which may take its client_id from
    # the envelope, is validated once unwrapped.
    'if': {'properties': {'client': {'type': 'object'}},
           'required': ['client']},
    'else': {'required': ['client_id']},
    # Other unknown keys are ignored, as the original service did.
    'additionalProperties': True,
}
