"""Sender authentication of inbound mail: SPF, DKIM, DMARC and ARC."""
