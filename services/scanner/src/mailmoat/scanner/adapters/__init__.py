"""Scanner adapters: detector backends that call out of the process (LLM APIs)."""
