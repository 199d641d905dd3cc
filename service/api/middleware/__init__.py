"""Pure ASGI middleware: each module owns one cross-cutting concern of every request."""
