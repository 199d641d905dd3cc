"""The routes: each module serves one group of paths."""
