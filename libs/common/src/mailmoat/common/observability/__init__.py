"""Observability: JSON logs with mail ids, Prometheus metrics, traces across Kafka hops."""
