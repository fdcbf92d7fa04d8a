"""SMTP front door: accepts mail for known inboxes, stores it durably, emits raw-mail."""
