"""The archive's own error (its writers and readers raise it; the CLI reports it as bad input)."""


class ArchiveError(RuntimeError):
    """A call the archive cannot honour (unknown run, invalid status, ...)."""
