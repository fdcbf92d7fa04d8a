"""Prompt-injection detectors (primary, checker) and the consensus engine."""
