"""Pydantic request and response bodies, grouped by area."""
