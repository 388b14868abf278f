"""The English stemmer, one per thread: PyStemmer's objects are not thread-safe, and the web app and the API answer
questions in several threads at once. The keyword index and the answerer stem with the same one."""

from __future__ import annotations

import threading

_per_thread = threading.local()


def english_stemmer():
    """This thread's Snowball English stemmer (PyStemmer), made on first use."""
    stemmer = getattr(_per_thread, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _per_thread.stemmer = Stemmer.Stemmer("english")
    return stemmer
