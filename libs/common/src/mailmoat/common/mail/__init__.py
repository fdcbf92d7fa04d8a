"""Shared models of an inbound message: its structure and its authentication results."""
