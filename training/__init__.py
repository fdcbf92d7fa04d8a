"""Offline training and evaluation of the scanner's learned primary detector."""
