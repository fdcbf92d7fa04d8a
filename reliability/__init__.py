"""The fault-injection suite: steady load, injected faults, and a tally of what survived."""
