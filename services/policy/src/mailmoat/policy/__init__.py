"""Inbound message policy (store, withhold) and the outbound chokepoint."""
