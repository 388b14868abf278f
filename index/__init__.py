"""Index: embeddings in Chroma (embedded folder or server) plus a keyword index of the same chunks."""
