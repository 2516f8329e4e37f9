"""The [database] group belongs to oslo.db; this is our default for it."""

# A relative SQLite path: the file lives in the directory the service is
# started from, which is what a developer running the quick start expects.
DEFAULT_CONNECTION = 'sqlite:///freezer-api.sqlite'
