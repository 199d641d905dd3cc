"""The notes service: a REST API for storing notes."""
