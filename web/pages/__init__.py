"""The pages of the web app, one module per area."""

from web.pages import admin, auth, dashboard, tickets

ROUTES = [*auth.ROUTES, *tickets.ROUTES, *dashboard.ROUTES, *admin.ROUTES]
