"""Scanner wiring: the two detector sides, an optional shadow, and the consensus engine."""

from __future__ import annotations

from typing import Any

from mailmoat.common.service import Service, every
from mailmoat.common.subscription import Subscription
from mailmoat.common.topics import Topic
from mailmoat.scanner.backends import build_detector
from mailmoat.scanner.consensus_handlers import JOIN, ConsensusEngine
from mailmoat.scanner.handlers import DetectorHandler
from mailmoat.scanner.settings import Backend, ScannerSettings


def _detector_service(
    name: str, side: str, backend: Backend, settings: ScannerSettings, *, shadow: bool = False
) -> Service:
    detector = build_detector(backend, side, settings)
    handler = DetectorHandler(
        side,
        detector,
        producer=name,
        consumer=settings.group(name),
        timeout=settings.detector_timeout_seconds,
        shadow=shadow,
    )
    # Not transactional: the handler keeps no transaction open while the detector judges.
    subscription = Subscription(
        Topic.RAW_MAIL,
        name,
        handler.on_raw_mail,
        transactional=False,
        batch_handler=handler.on_raw_mails,
    )
    close = getattr(detector, "aclose", None)  # network backends hold connection pools
    return Service(
        name=name,
        settings=settings,
        subscriptions=[subscription],
        on_stop=[handler.offload.close, *([close] if close is not None else [])],
    )


def build_primary(settings: ScannerSettings) -> Service:
    """The primary detector (group ``scanner-primary``)."""
    return _detector_service("scanner-primary", "primary", settings.primary_backend, settings)


def build_checker(settings: ScannerSettings) -> Service:
    """The checker detector (group ``scanner-checker``), a different method from the primary."""
    return _detector_service("scanner-checker", "checker", settings.checker_backend, settings)


def build_shadow(settings: ScannerSettings) -> Service:
    """A candidate detector on live traffic (group ``scanner-shadow``): recorded, never deciding."""
    if settings.shadow_backend is None:
        raise ValueError("set MAILMOAT_SHADOW_BACKEND to run a shadow detector")
    return _detector_service(
        "scanner-shadow", settings.shadow_side, settings.shadow_backend, settings, shadow=True
    )


def build_consensus(settings: ScannerSettings) -> Service:
    """The consensus engine: opens a decision per raw mail, joins verdicts, sweeps deadlines,
    and keeps its copy of the sender graph."""
    engine = ConsensusEngine(settings.verdict_deadline_seconds)

    sweeps = every(settings.sweep_interval_seconds, "deadline sweep", engine.sweep_round)
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.RAW_MAIL, "scanner-consensus-intake", engine.on_raw_mail, turn=JOIN),
        Subscription(Topic.SCAN_VERDICTS, "scanner-consensus", engine.on_scan_verdict, turn=JOIN),
        Subscription(Topic.SENDER_GRAPH, "scanner-consensus-graph", engine.on_sender_edge),
    ]
    return Service(
        name="scanner-consensus", settings=settings, subscriptions=subscriptions, loops=[sweeps]
    )
