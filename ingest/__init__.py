"""Ingestion: load documents from disk and turn them into citable chunks, tables and footnotes."""
