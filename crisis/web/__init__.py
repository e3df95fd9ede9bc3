"""The HTTP side of the orchestrator: provider webhooks (and, later, the dashboard)."""

from crisis.web.app import create_app, serve_web

__all__ = ["create_app", "serve_web"]
