"""The few errors the library raises; the CLI and UI turn them into one-sentence messages."""


class AmpiError(Exception):
    """Base class for errors a user should see as a plain message."""


class IngestError(AmpiError):
    """A file could not be read or parsed; the message names the file and the reason."""


class StoreError(AmpiError):
    """The index store (Chroma folder or server) is missing, unreachable or corrupt."""


class NoIndex(StoreError):
    """No index has been built yet."""


class NoDocument(AmpiError):
    """A question was limited to a document that is not indexed."""
