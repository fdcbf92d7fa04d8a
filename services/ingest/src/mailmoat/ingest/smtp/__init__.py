"""The SMTP front door: a hardened aiosmtpd server and the handler that stores mail durably."""
