"""Domain operations shared by the HTTP routes, the CLI and the worker (routes stay thin)."""
