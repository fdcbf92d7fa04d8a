"""Committed model artefacts, found with importlib.resources."""
