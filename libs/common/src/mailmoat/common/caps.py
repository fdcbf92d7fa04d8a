"""The outbound caps: server constants, never settings. Per-inbox limits may only go below them."""

from __future__ import annotations

from datetime import timedelta

WINDOW = timedelta(hours=24)
"""Both caps count over a rolling 24 hours."""
WORKSPACE_DAILY_CAP = 500
"""Messages (one per recipient) a workspace may send per rolling 24 hours."""
RECIPIENT_DAILY_CAP = 5
"""Messages one recipient may receive from a workspace per rolling 24 hours."""
