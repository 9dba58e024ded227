"""Figures and tables of bench/http.py: one `Cell` per scenario and concurrency."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import pyspy
from bench.lag import percentile
from bench.procstat import TRAIL_ROLES

# Each Trail scenario's bare counterpart (bench/baseline.py); mixed has none.
BARE = {"create": "bare-insert", "update": "bare-insert", "read-list": "bare-page",
        "read-one": "bare-one"}


@dataclass
class Cell:
    scenario: str
    concurrency: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    other_errors: int  # errors answered in the warm-up or after the window
    cpu_ms: dict[str, float]  # by label, over the window
    settled_cpu: dict[str, float] | None = None  # from the window's start to the drain's end
    drain_s: float | None = None
    backlog_at_end: int | None = None
    failed_emails: int | None = None
    writes: int = 0
    lag_ms: list[float] = field(default_factory=list)
    lag_missing: int = 0
    lag_by_projection: dict[str, list[float]] = field(default_factory=dict)
    load: tuple[float, ...] = ()
    profiles: dict[str, str] = field(default_factory=dict)
    count_exited: bool = False  # whether PostgreSQL's figure includes `pg-exited`
    pg_backends_exited: int = 0  # the bench database's backends that ended in the window
    machine: dict[str, float] = field(default_factory=dict)  # the machine's CPU ms, /proc/stat


def _per_request(cpu: dict[str, float], requests: int, count_exited: bool, bare: bool
                 ) -> dict[str, float]:
    n = max(1, requests)
    per = {label: ms / n for label, ms in cpu.items()}
    per["trail"] = sum(per.get(role, 0.0) for role in TRAIL_ROLES)
    # The backends of the app under load (idle pools of the other app are left out); live
    # backends of other databases, and (unless the server is the bench's alone) backends that
    # exited, belong to other tenants of a shared server: shown, not summed.
    clients = ("bare",) if bare else TRAIL_ROLES
    per["pg-clients"] = sum(per.get(f"pg:{role}", 0.0) for role in clients)
    per["postgres"] = (per["pg-clients"] + per.get("pg", 0.0) + per.get("pg-server", 0.0)
                       + (per.get("pg-exited", 0.0) if count_exited else 0.0))
    per["sum"] = per["trail"] + per.get("bare", 0.0) + per["postgres"] + per.get("redis", 0.0)
    return per


def _ms(values: list[float], p: float, scale: float = 1.0) -> float | None:
    found = percentile(values, p)
    return None if found is None else round(found * scale, 3)


def cell_figures(cell: Cell) -> dict[str, Any]:
    requests = len(cell.latencies)
    bare = cell.scenario.startswith("bare")
    figures: dict[str, Any] = {
        "scenario": cell.scenario, "concurrency": cell.concurrency,
        "seconds": round(cell.seconds, 3), "requests": requests,
        "req_s": requests / cell.seconds if cell.seconds else 0.0,
        "p50_ms": _ms(cell.latencies, 0.50, 1000), "p95_ms": _ms(cell.latencies, 0.95, 1000),
        "p99_ms": _ms(cell.latencies, 0.99, 1000),
        "errors": len(cell.errors), "errors_outside_window": cell.other_errors,
        "error_examples": sorted(set(cell.errors))[:5],
        "cpu_ms": {k: round(v, 1) for k, v in cell.cpu_ms.items()},
        "cpu_ms_per_req": {k: round(v, 4) for k, v in
                           _per_request(cell.cpu_ms, requests, cell.count_exited, bare).items()},
        "postgres_counts_exited_backends": cell.count_exited,
        "bench_db_backends_exited": cell.pg_backends_exited,
        "load_average": cell.load,
    }
    if cell.machine and cell.seconds:
        # CPUs' worth over the window: the whole machine busy, the system measured here, and
        # everything else but the load generator (other tenants of a shared machine).
        per = figures["cpu_ms_per_req"]
        system = per["sum"] * requests / 1000 / cell.seconds
        busy = cell.machine["busy"] / 1000 / cell.seconds
        loadgen = cell.cpu_ms.get("loadgen", 0.0) / 1000 / cell.seconds
        figures["machine_cpus"] = {
            "busy": round(busy, 2), "system": round(system, 2),
            "others": round(max(0.0, busy - system - loadgen), 2),
            "steal": round(cell.machine["steal"] / 1000 / cell.seconds, 2),
        }
    if cell.settled_cpu is not None:
        figures.update({
            "writes": cell.writes,
            "settled_cpu_ms_per_req": {k: round(v, 4) for k, v in
                                       _per_request(cell.settled_cpu, requests,
                                                    cell.count_exited, bare).items()},
            "lag_ms": {"p50": _ms(cell.lag_ms, 0.5), "p99": _ms(cell.lag_ms, 0.99),
                       "max": _ms(cell.lag_ms, 1.0), "writes": len(cell.lag_ms),
                       "never_seen": cell.lag_missing},
            "lag_p99_ms_by_projection": {name: _ms(lags, 0.99)
                                         for name, lags in cell.lag_by_projection.items()},
            "outbox_unsent_at_end": cell.backlog_at_end,
            "outbox_failed": cell.failed_emails,
            "drain_s": round(cell.drain_s or 0.0, 3),
        })
    if cell.profiles:
        figures["profiles"] = cell.profiles
    return figures


def figures(cells: list[Cell]) -> list[dict[str, Any]]:
    """Every cell's figures, each Trail scenario with its ratio to its bare counterpart."""
    out = [cell_figures(cell) for cell in cells]
    bare = {(f["scenario"], f["concurrency"]): f for f in out if f["scenario"].startswith("bare")}
    for f in out:
        counterpart = bare.get((BARE.get(f["scenario"], ""), f["concurrency"]))
        if counterpart and counterpart["req_s"]:
            f["bare"] = counterpart["scenario"]
            f["bare_req_s"] = counterpart["req_s"]
            f["ratio_to_bare"] = round(f["req_s"] / counterpart["req_s"], 3)
            # What the req/s ratio would be with both CPU-bound on the same free cores: on a
            # shared machine the scheduler gives the bare app and Trail different shares.
            f["cpu_ratio_to_bare"] = round(counterpart["cpu_ms_per_req"]["sum"]
                                           / max(f["cpu_ms_per_req"]["sum"], 1e-9), 3)
    return out


def _num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else format(value, fmt)


def _cpus(machine: dict[str, float] | None) -> str:
    return "-" if not machine else f"{machine['system']:.2f}/{machine['others']:.2f}"


def print_tables(cells: list[Cell], run: dict[str, Any]) -> None:
    rows = figures(cells)
    print()
    print(f"{'scenario':<12}{'C':>3}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
          f"{'bare':>12}{'bare/s':>8}{'ratio':>7}{'cpu r.':>7}"
          f"{'lag p50':>9}{'lag p99':>9}{'lag max':>9}"
          f"{'unsent':>8}{'drain s':>8}{'load':>11}{'CPUs sys/others':>16}")
    print("-" * 150)
    for f in rows:
        lag = f.get("lag_ms", {})
        load = f["load_average"]
        print(f"{f['scenario']:<12}{f['concurrency']:>3}{f['req_s']:>8.1f}"
              f"{_num(f['p50_ms'], '.2f'):>8}{_num(f['p99_ms'], '.2f'):>8}"
              f"{f['errors'] + f['errors_outside_window']:>7}{f.get('bare', '-'):>12}"
              f"{_num(f.get('bare_req_s'), '.0f'):>8}{_num(f.get('ratio_to_bare'), '.2f'):>7}"
              f"{_num(f.get('cpu_ratio_to_bare'), '.2f'):>7}"
              f"{_num(lag.get('p50')):>9}{_num(lag.get('p99')):>9}{_num(lag.get('max')):>9}"
              f"{_num(f.get('outbox_unsent_at_end'), 'd'):>8}{_num(f.get('drain_s')):>8}"
              f"{'->'.join(f'{x:.1f}' for x in load):>11}"
              f"{_cpus(f.get('machine_cpus')):>16}")
    print()
    print("ms of CPU per request (window; 'settled' = from the window's start until projections "
          "and emails caught up)")
    cols = ("api", "projector", "notifier", "worker", "webhooks", "serve")
    print(f"{'scenario':<12}{'C':>3}" + "".join(f"{c:>10}" for c in cols)
          + f"{'app':>8}{'postgres':>10}{'redis':>8}{'sum':>8}{'settled':>9}"
          f"{'loadgen':>9}{'pg exited':>10}{'pg other':>10}{'pg meas.':>10}")
    print("-" * 167)
    for f in rows:
        per = f["cpu_ms_per_req"]
        bare = f["scenario"].startswith("bare")
        settled = f.get("settled_cpu_ms_per_req", {}).get("sum")
        print(f"{f['scenario']:<12}{f['concurrency']:>3}"
              + "".join(f"{'-' if bare else _num(per.get(c, 0.0), '.3f'):>10}" for c in cols)
              + f"{_num(per.get('bare') if bare else per['trail'], '.3f'):>8}"
              f"{_num(per['postgres'], '.3f'):>10}{_num(per.get('redis', 0.0), '.3f'):>8}"
              f"{_num(per['sum'], '.3f'):>8}{_num(settled, '.3f'):>9}"
              f"{_num(per.get('loadgen', 0.0), '.3f'):>9}"
              f"{_num(per.get('pg-exited', 0.0), '.3f'):>10}"
              f"{_num(per.get('pg-other-db', 0.0), '.3f'):>10}"
              f"{_num(per.get('pg-measurement', 0.0), '.3f'):>10}")
    print()
    print(f"# load average before {' '.join(f'{x:.2f}' for x in run['load_before'])}, after "
          f"{' '.join(f'{x:.2f}' for x in run['load_after'])}; PostgreSQL "
          f"{run.get('postgres')}, Redis {run.get('redis')}; Trail processes "
          f"{run.get('processes')}; API access-log lines {run.get('access_log_lines')}")
    print()
    print("PostgreSQL's ms of CPU per request, by the client its backends serve")
    pg_cols = ("api", "projector", "notifier", "worker", "webhooks", "bare")
    print(f"{'scenario':<12}{'C':>3}" + "".join(f"{c:>10}" for c in pg_cols)
          + f"{'unknown':>10}{'server':>10}{'postgres':>10}")
    print("-" * 115)
    for f in rows:
        per = f["cpu_ms_per_req"]
        print(f"{f['scenario']:<12}{f['concurrency']:>3}"
              + "".join(f"{_num(per.get(f'pg:{c}', 0.0), '.3f'):>10}" for c in pg_cols)
              + f"{_num(per.get('pg', 0.0), '.3f'):>10}{_num(per.get('pg-server', 0.0), '.3f'):>10}"
              f"{_num(per['postgres'], '.3f'):>10}")
    print()
    exited = [f"{f['scenario']} C={f['concurrency']}: {f['bench_db_backends_exited']}"
              for f in rows if f["bench_db_backends_exited"]]
    if exited and not any(c.count_exited for c in cells):
        print("# !! backends of the bench database exited in a window (their CPU is under "
              "'pg exited', not in 'postgres'): " + ", ".join(exited))
    idle = run.get("idle_cpu_ms_per_s", {})
    print("# idle system, ms of CPU per second: "
          + ", ".join(f"{k} {v:.1f}" for k, v in sorted(idle.items())))
    for f in rows:
        if "lag_p99_ms_by_projection" in f:
            by = ", ".join(f"{k} {_num(v)}" for k, v in f["lag_p99_ms_by_projection"].items())
            print(f"# lag p99 by projection, {f['scenario']} C={f['concurrency']}: {by}")


def print_profile(cell: Cell, results: Path) -> None:
    repo = results.parent.parent
    for role, raw in sorted(cell.profiles.items()):
        if raw.startswith("failed"):
            print(f"\n== {role}: profile {raw}")
            continue
        stacks = pyspy.read_stacks(Path(raw))
        total = sum(count for _, count in stacks) or 1
        svg = Path(raw).with_suffix(".svg")
        pyspy.flamegraph(stacks, svg, f"{role}, {cell.scenario} at C={cell.concurrency}")
        busy = total / (pyspy.RATE * cell.seconds)
        print(f"\n== {role}: {total} samples, the GIL held ≈ {busy:.0%} of the window; "
              f"{svg.relative_to(repo)}, {Path(raw).name}")
        print("   own samples, top 15:")
        for name, count in pyspy.top_own(stacks):
            print(f"   {count / total:6.1%}  {name}")
        print("   inclusive, top 12 in Trail's own code:")
        ours = [(n, c) for n, c in pyspy.top_total(stacks, 1000)
                if (repo / n.rpartition(" (")[2].rstrip(")")).is_file()]
        for name, count in ours[:12]:
            print(f"   {count / total:6.1%}  {name}")
