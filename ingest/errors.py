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


class NotRemovable(AmpiError):
    """`ampi remove` was given a path that is not a document added with `ampi ingest PATH`."""


# How an encrypted PDF's password is given on the command line; the web app puts its own field in its place.
PASSWORD_HINT = "with --password or AMPI_PDF_PASSWORD"


def shown(name: object) -> str:
    """A file name as printed in a one-line reason: repr-style escaped when it holds a newline or other unprintable character."""
    text = str(name)
    # A newline would split a reason over two lines; an undecodable byte (a lone surrogate) would crash the print.
    return text if text.isprintable() else repr(text)
