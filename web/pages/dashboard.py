"""The dashboard: tickets by status, priority and type, created and resolved per day, the median
time to resolve, and open tickets over time, for a project (or all) and a range of UTC days.

The figures are `projections.stats.stats` for the same filters, the very function behind
`GET /stats`, so the page and the API cannot disagree; the open-tickets line comes from the
`daily` read model. Like `/stats`, it is for admins and developers: a reporter sees only some
tickets, so it gets no figures over all of them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import Parameter

from commands.errors import Forbidden
from commands.permissions import Actor
from projections import daily, stats
from projections.errors import InvalidQuery
from projections.stats import StatsFilters
from web import charts
from web.pages.common import all_projects
from web.render import label
from web.site import Web
from web.visit import visit_of

READS = (stats.StatsProjection.name, daily.DailyOpenProjection.name, "projects")
DEFAULT_DAYS = 30

Query = Annotated[str | None, Parameter(required=False)]


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidQuery(field, "must be a date (YYYY-MM-DD)") from None


@get("/dashboard", sync_to_thread=True)
def dashboard(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    project: Query = None,
    first: Annotated[str | None, Parameter(query="from", required=False)] = None,
    last: Annotated[str | None, Parameter(query="to", required=False)] = None,
) -> Response[Any]:
    if not actor.works_tickets:
        raise Forbidden("the dashboard counts every ticket, and a reporter sees only some")
    today = daily.utc_today()
    to = _day(last, "to") or today
    start = _day(first, "from") or to - timedelta(days=DEFAULT_DAYS - 1)
    if start > to:
        raise InvalidQuery("from", "must not be after 'to'")
    with web.reading(visit_of(request), READS) as conn:
        known = all_projects(conn)
        chosen = None
        if project:
            chosen = next((p for p in known if p.key == project.upper()), None)
            if chosen is None:
                raise InvalidQuery("project", "is not the key of a project")
        figures = stats.stats(conn, StatsFilters(
            project_id=chosen.id if chosen else None, from_=start, to=to))
        open_series = daily.open_per_day(conn, start, to,
                                         [chosen.id] if chosen else None)
    days = [start + timedelta(days=n) for n in range((to - start).days + 1)]
    created = _per_day(figures.created_per_day, days)
    resolved = _per_day(figures.resolved_per_day, days)
    opened = [c.count for c in open_series]

    def dimension(name: str, counts: dict[str, int]) -> dict[str, Any]:
        items = [charts.Bar(label(k), v, f"{name}-{k}") for k, v in counts.items()]
        return {
            "svg": charts.bars(f"chart-{name}", f"Tickets by {name}", items),
            "table": charts.table(f"Tickets by {name}", [name.capitalize(), "Tickets"],
                                  [(i.label, i.value) for i in items]),
            "counts": counts,
        }

    return web.page(request, "dashboard.html", {
        "title": "Dashboard",
        "projects": known,
        "chosen": chosen,
        "start": start,
        "to": to,
        "figures": figures,
        "created_total": sum(created),
        "resolved_total": sum(resolved),
        "open_now": opened[-1] if opened else 0,
        "status": dimension("status", figures.by_status),
        "priority": dimension("priority", figures.by_priority),
        "type": dimension("type", figures.by_type),
        "flow": charts.lines("chart-flow", "Tickets created and resolved per day", days, [
            charts.Series("Created", created, "created"),
            charts.Series("Resolved", resolved, "resolved"),
        ]),
        "flow_table": charts.table("Created and resolved per day", ["Day", "Created", "Resolved"],
                                   [(d.isoformat(), c, r) for d, c, r in
                                    zip(days, created, resolved, strict=True)]),
        "open_chart": charts.lines("chart-open", "Open tickets at the end of each day", days, [
            charts.Series("Open", opened, "open"),
        ], area=True),
        "open_table": charts.table("Open tickets per day", ["Day", "Open"],
                                   [(d.isoformat(), n) for d, n in
                                    zip(days, opened, strict=True)]),
        "presets": [(n, to - timedelta(days=n - 1)) for n in (7, 30, 90, 365)],
    })


def _per_day(counts: list[stats.DayCount], days: list[date]) -> list[int]:
    by_day = {c.date: c.count for c in counts}
    return [by_day.get(d, 0) for d in days]


ROUTES = [dashboard]
