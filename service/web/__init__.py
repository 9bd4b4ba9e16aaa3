"""The web application: pages for clerks, reviewers and the public, and the REST API.

- ``app``: ``create_app`` (settings, runtime, blueprints, security headers);
- ``api``: the REST API (``/api/v1``), ``auth``: sessions, tokens, CSRF, ``require``;
- ``inputs``: reading what a request sends; ``http_errors``: coded JSON errors; ``openapi``: the API's description;
- ``views``: what a document looks like to the public and to staff (``public_view``,
  ``public_listing``, ``full_view``, ``detail_view``);
- ``pages``: what every page shares and the account pages; ``catalogue``, ``desk``, ``admin``,
  ``auditlog``, ``batches``, ``report``: the pages, one blueprint each.

Only this package imports Flask. It calls the core (review, receiving, search, report …); the
core never imports it, and neither does the command line.
"""
from service.web.app import create_app

__all__ = ["create_app"]
