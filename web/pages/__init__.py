"""The pages of the web app, one module per area."""

from web.pages import auth, tickets

ROUTES = [*auth.ROUTES, *tickets.ROUTES]
