"""Scanner domain logic: detectors and consensus, pure functions with no I/O."""
