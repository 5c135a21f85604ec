"""The studio: a local web app where culture-centre staff write, check, hear, approve and build
the week, over the same project folder and the same application layer as the command line."""

from .web import create_app, serve

__all__ = ["create_app", "serve"]
