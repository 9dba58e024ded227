"""The pages of the web app, one module per area."""

from web.pages import account, admin, auth, dashboard, tickets

ROUTES = [*auth.ROUTES, *account.ROUTES, *tickets.ROUTES, *dashboard.ROUTES, *admin.ROUTES]
