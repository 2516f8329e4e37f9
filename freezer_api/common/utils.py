"""Small helpers with no better home."""

import uuid


def generate_id():
    """A new resource id: a uuid4 in hex, as the original service made."""
    return uuid.uuid4().hex


def merge_patch(target, patch):
    """Apply a JSON merge patch (RFC 7396) to ``target``; return the result.

    Objects are merged key by key, a null removes a key, anything else
    replaces the value. Neither argument is modified.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
