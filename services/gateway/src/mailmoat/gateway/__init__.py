"""HTTP API agents, dashboards and scripts call."""
