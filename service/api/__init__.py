"""The HTTP edge: routers, dependencies, problem+json handlers and middleware."""
