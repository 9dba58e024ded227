"""CPU time of whole process trees, read from /proc, for bench/http.py.

A tree's CPU over a window is the change, from the window's start to its end, of the sum over its
live processes of utime + stime + cutime + cstime (/proc/<pid>/stat, clock ticks): cutime and
cstime hold the CPU of children that exited and were reaped, so a process that ends (or is
restarted) during the window still counts, through its parent. The tree is listed again at the
end, so processes started during the window count too.

Each process gets a label from its command line (`classify`), and the figures are kept per label.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psutil

TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcTimes:
    pid: int
    ppid: int
    started: int  # /proc/<pid>/stat field 22: tells a reused pid from the process we saw
    own: int  # utime + stime, ticks
    children: int  # cutime + cstime: reaped children, ticks
    label: str


def read_stat(pid: int) -> tuple[int, int, int, int] | None:
    """(ppid, starttime, utime + stime, cutime + cstime) of `pid`, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            raw = file.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = raw[raw.rindex(b")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, so fields[11]..fields[14], then field 22.
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return int(fields[1]), int(fields[19]), utime + stime, cutime + cstime


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return [part.decode(errors="replace") for part in file.read().split(b"\0") if part]
    except OSError:
        return []


@dataclass
class Snapshot:
    times: dict[int, ProcTimes] = field(default_factory=dict)

    def add(self, pid: int, label: str) -> None:
        stat = read_stat(pid)
        if stat is not None:
            self.times[pid] = ProcTimes(pid, *stat, label)

    def labels(self) -> set[str]:
        return {t.label for t in self.times.values()}


def tree_pids(root: int) -> list[int]:
    try:
        parent = psutil.Process(root)
        return [root, *(child.pid for child in parent.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def snapshot_tree(root: int, classify: Callable[[int, list[str]], str],
                  exclude: Iterable[int] = ()) -> Snapshot:
    """Every live process of the tree under `root` (itself included), labelled."""
    skip = set(exclude)
    snap = Snapshot()
    for pid in tree_pids(root):
        if pid not in skip:
            snap.add(pid, classify(pid, cmdline(pid)))
    return snap


def cpu_ms(start: Snapshot, end: Snapshot, reaped: dict[str, str] | None = None
           ) -> dict[str, float]:
    """CPU milliseconds per label between two snapshots of the same tree.

    A process is the same one in both only if its start time matches. One present only at the
    end started in the window: all its CPU is the window's. One present only at the start ended
    in the window and its whole CPU reached its parent's cutime/cstime, where what it had used
    before the window is taken off. The reaped children's CPU of a process labelled L counts
    under `reaped[L]` (default: L).
    """
    reaped = reaped or {}
    totals: dict[str, float] = {}

    def add(label: str, ticks: int) -> None:
        totals[label] = totals.get(label, 0.0) + ticks * TICK_MS

    for t in end.times.values():
        add(t.label, t.own)
        add(reaped.get(t.label, t.label), t.children)
    for t in start.times.values():
        twin = end.times.get(t.pid)
        if twin is not None and twin.started == t.started:
            add(twin.label, -t.own)
            add(reaped.get(twin.label, twin.label), -t.children)
        else:
            parent = start.times.get(t.ppid)
            into = reaped.get(parent.label, parent.label) if parent is not None else t.label
            add(into, -(t.own + t.children))
    return totals


def vanished(start: Snapshot, end: Snapshot, prefix: str) -> int:
    """Processes whose label starts with `prefix` at the start that were gone at the end."""
    return sum(1 for t in start.times.values() if t.label.startswith(prefix)
               and (end.times.get(t.pid) is None or end.times[t.pid].started != t.started))


# --------------------------------------------------------------------------- labels

TRAIL_ROLES = ("serve", "api", "projector", "notifier", "worker", "webhooks")


def trail_classifier(serve_pid: int) -> Callable[[int, list[str]], str]:
    """Labels a process of the `trail serve` tree by the `trail` sub-command it runs; a process
    without one (a uvicorn worker, a multiprocessing helper) gets its nearest ancestor's."""
    known: dict[int, str] = {serve_pid: "serve"}

    def classify(pid: int, argv: list[str]) -> str:
        if pid in known:
            return known[pid]
        role = next((arg for arg in argv[1:] if arg in TRAIL_ROLES), None)
        if role is None:
            try:
                parent = psutil.Process(pid).ppid()
            except psutil.NoSuchProcess:
                parent = 0
            role = known.get(parent) or (classify(parent, cmdline(parent)) if parent else "other")
        known[pid] = role
        return role

    return classify


_BACKEND = re.compile(r"^postgres: (?:\S+: )?(\S+) (\S+) (\S+\(\d+\)|\[local\])")

# PostgreSQL's labels: `pg:ROLE` the backends of the bench's database serving a client process
# of that role (by the client's port), `pg` those whose client is not known; `pg-server` the
# postmaster's own CPU and its background processes (checkpointer, WAL writer, …: shared by
# every database); `pg-exited` the postmaster's cutime/cstime, that is every backend that exited
# during the window, of any database; `pg-other-db` live backends of other databases;
# `pg-measurement` the bench's own connections.
PG_REAPED = {"pg-server": "pg-exited"}


def postgres_classifier(database: str, measurement_pids: set[int], ports: dict[int, str]
                        ) -> Callable[[int, list[str]], str]:
    """`ports` maps a client's local port to its role; the caller keeps it current
    (`client_ports`) before each snapshot."""

    def classify(pid: int, argv: list[str]) -> str:
        if pid in measurement_pids:
            return "pg-measurement"
        found = _BACKEND.match(" ".join(argv))
        if found is None:
            return "pg-server"
        if found.group(2) != database:
            return "pg-other-db"
        port = found.group(3).rpartition("(")[2].rstrip(")")
        role = ports.get(int(port)) if port.isdigit() else None
        return f"pg:{role}" if role else "pg"

    return classify


def client_ports(roles: dict[int, str], server_port: int) -> dict[int, str]:
    """Local port -> role of every TCP connection from the processes `roles` (pid -> role) to
    `server_port`."""
    ports: dict[int, str] = {}
    for pid, role in roles.items():
        try:
            for conn in psutil.Process(pid).net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == server_port:
                    ports[conn.laddr.port] = role
        except psutil.Error:
            continue
    return ports


def own_times() -> float:
    """CPU ms of this process (all its threads) so far."""
    stat = read_stat(os.getpid())
    assert stat is not None
    return stat[2] * TICK_MS


def machine_ms() -> dict[str, float]:
    """The whole machine's CPU so far (every CPU, /proc/stat), ms: busy (user, nice, system,
    irq, softirq), steal (taken by the hypervisor for other guests) and idle (with iowait)."""
    with open("/proc/stat") as file:
        values = [int(v) for v in file.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    return {"busy": (user + nice + system + irq + softirq) * TICK_MS, "steal": steal * TICK_MS,
            "idle": (idle + iowait) * TICK_MS}
