"""Every runnable service by name, with the settings class it reads from the environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.dispatch.app import build_service as build_dispatch
from mailmoat.dispatch.settings import DispatchSettings
from mailmoat.gateway.app import build_service as build_gateway
from mailmoat.gateway.settings import GatewaySettings
from mailmoat.ingest.app import build_service as build_ingest
from mailmoat.ingest.settings import IngestSettings
from mailmoat.policy.app import build_service as build_policy
from mailmoat.policy.settings import PolicySettings
from mailmoat.reputation.app import build_service as build_reputation
from mailmoat.scanner.app import build_checker, build_consensus, build_primary, build_shadow
from mailmoat.scanner.settings import ScannerSettings


@dataclass(frozen=True)
class ServiceSpec:
    """How to build one service from the environment."""

    settings: type[CommonSettings]
    build: Callable[[Any], Service]

    def from_environment(self) -> Service:
        """Settings read once here, then passed down."""
        return self.build(self.settings())


SERVICES: dict[str, ServiceSpec] = {
    "ingest": ServiceSpec(IngestSettings, build_ingest),
    "scanner-primary": ServiceSpec(ScannerSettings, build_primary),
    "scanner-checker": ServiceSpec(ScannerSettings, build_checker),
    "scanner-consensus": ServiceSpec(ScannerSettings, build_consensus),
    "policy": ServiceSpec(PolicySettings, build_policy),
    "dispatch": ServiceSpec(DispatchSettings, build_dispatch),
    "reputation": ServiceSpec(CommonSettings, build_reputation),
    "gateway": ServiceSpec(GatewaySettings, build_gateway),
}

# Run on demand (``mailmoat run scanner-shadow``), not by ``mailmoat dev``.
OPTIONAL_SERVICES: dict[str, ServiceSpec] = {
    "scanner-shadow": ServiceSpec(ScannerSettings, build_shadow),
}
