"""Shared foundation of every Mailmoat service: topics, events, settings, database, bus, outbox."""
