"""The single egress: outbound SMTP relay, webhooks and the audit stream."""
