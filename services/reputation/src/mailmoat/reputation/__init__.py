"""Sender reputation: counts of sent, bounced and complained mail per inbox."""
