"""Type aliases shared by the modules of freezer_api."""

import typing

# A JSON document (an action, job, session, client or backup) as the API
# shows it and the database stores it.
Document = dict[str, typing.Any]
