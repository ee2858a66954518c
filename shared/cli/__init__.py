"""`conduct`: the operators' command line, installed with the project.

It is a composition root like shared/devstack: it may call into every service's own functions.
Each command reads the same environment as the services (DATABASE_URL, REDIS_URL...).
"""

from shared.cli.app import app

__all__ = ["app"]
