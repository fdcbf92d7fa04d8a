"""Dispatch's adapters: the SMTP relay and the webhook sender."""
