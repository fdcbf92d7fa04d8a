"""Tests of the L1 attachment checks."""
