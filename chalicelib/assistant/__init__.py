"""The assistant: the tenant's knowledge base, training a model for it, and answering
standard questions behind the stream (docs/assistant.md)."""
