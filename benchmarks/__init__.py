"""``make bench``'s measurements (``benchmarks.run`` writes BENCHMARKS.md)."""

import os
import secrets

# A throwaway deployment secret for each bench run; the services a bench starts inherit it.
os.environ.setdefault("MAILMOAT_WEBHOOK_SECRET_KEY", secrets.token_urlsafe(32))
