"""Ingest's adapters: the mail store."""
