"""The one exception the query functions raise for bad input."""


class QueryError(ValueError):
    """Bad input to a query function: a malformed search, an unknown article or version."""
