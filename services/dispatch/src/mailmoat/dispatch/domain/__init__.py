"""Dispatch domain logic: composing outbound mail and webhook payloads, no I/O."""
