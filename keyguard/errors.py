"""The one error type the CLI turns into a one-line message and exit code 2."""


class UsageError(Exception):
    """Bad usage or unusable input: missing or unreadable file, invalid JSON, bad config."""
