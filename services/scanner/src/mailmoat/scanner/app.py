"""Scanner wiring: three deployables, each in its own consumer group."""

from __future__ import annotations

from mailmoat.common.consumer import Subscription
from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.scanner.domain.assessment import Detector
from mailmoat.scanner.domain.hidden import HiddenContentChecker
from mailmoat.scanner.domain.phrases import PhraseScorer
from mailmoat.scanner.handlers import DetectorHandler, on_scan_verdict


def _detector_service(side: str, detector: Detector, settings: CommonSettings) -> Service:
    handler = DetectorHandler(side, detector)
    subscription = Subscription(Topic.RAW_MAIL, f"scanner-{side}", handler.on_raw_mail)
    return Service(name=f"scanner-{side}", settings=settings, subscriptions=[subscription])


def build_primary(settings: CommonSettings) -> Service:
    """The primary detector (group ``scanner-primary``)."""
    return _detector_service("primary", PhraseScorer(), settings)


def build_checker(settings: CommonSettings) -> Service:
    """The checker detector (group ``scanner-checker``), a different method from the primary."""
    return _detector_service("checker", HiddenContentChecker(), settings)


def build_consensus(settings: CommonSettings) -> Service:
    """The consensus engine (group ``scanner-consensus``)."""
    subscription = Subscription(Topic.SCAN_VERDICTS, "scanner-consensus", on_scan_verdict)
    return Service(name="scanner-consensus", settings=settings, subscriptions=[subscription])
