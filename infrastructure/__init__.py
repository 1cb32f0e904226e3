"""Adapters: settings, databases, hashing and the wiring of the event store."""
