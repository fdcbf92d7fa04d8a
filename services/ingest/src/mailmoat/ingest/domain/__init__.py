"""Ingest's pure logic: parsing, checks, sender rules and feedback, with no I/O."""
