"""Errors the command line turns into one clear line and a non-zero exit."""


class AuditorError(Exception):
    """A failure the user can act on; its message is shown as-is."""


class StoreError(AuditorError):
    """The database is missing, of another schema version, or holds no such scan."""


class CollectionError(AuditorError):
    """A scan could not start or could not reach its endpoint at all."""


class PolicyError(AuditorError):
    """A policy file is malformed; the message names the file and line."""


class InputError(AuditorError):
    """A value given on the command line is not one the tool knows: a usage error (exit 2), listing the valid ones."""


class CredentialError(AuditorError):
    """A credential that cannot be used as given (a malformed token); the message never holds the secret."""
