"""CPU time spent by a stack: its service processes and the PostgreSQL backends serving its
database, read from /proc (utime + stime), so that a figure can say CPU-seconds per item.

Kafka's broker is shared with everyone on the machine and is left out: its CPU can't be
told apart per client.

And the whole machine's time over a measurement (/proc/stat): how many cores were busy and
what share the hypervisor took (steal). A figure bound by the machine's CPU moves with both,
and on this VM both wander for minutes at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psycopg

from tests.support.stack import Stack

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` so far; 0 for a process that is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass(frozen=True)
class MachineTimes:
    """The jiffies of every CPU together, from the first line of /proc/stat."""

    busy: int  # user, nice, system, irq, softirq
    idle: int  # idle and iowait
    steal: int

    @classmethod
    def now(cls) -> "MachineTimes":
        with open("/proc/stat") as handle:
            user, nice, system, idle, iowait, irq, softirq, steal = map(int, handle.readline().split()[1:9])
        return cls(user + nice + system + irq + softirq, idle + iowait, steal)

    def __sub__(self, other: "MachineTimes") -> "MachineTimes":
        return MachineTimes(self.busy - other.busy, self.idle - other.idle, self.steal - other.steal)

    def __add__(self, other: "MachineTimes") -> "MachineTimes":
        return MachineTimes(self.busy + other.busy, self.idle + other.idle, self.steal + other.steal)

    def busy_cores(self, cores: int) -> float:
        """Cores busy on average: the busy share of all the time, times the cores."""
        total = self.busy + self.idle + self.steal
        return cores * self.busy / total if total else 0.0

    def steal_share(self) -> float:
        total = self.busy + self.idle + self.steal
        return self.steal / total if total else 0.0


def backend_pids(stack: Stack) -> list[int]:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid()").fetchall()
    return [row[0] for row in rows]


@dataclass
class CpuSnapshot:
    service: dict[int, float]
    backends: dict[int, float]


def snapshot(stack: Stack) -> CpuSnapshot:
    service = {proc.pid: cpu_seconds(proc.pid) for proc in stack.procs.values()}
    return CpuSnapshot(service, {pid: cpu_seconds(pid) for pid in backend_pids(stack)})


def spent(before: CpuSnapshot, after: CpuSnapshot) -> tuple[float, float]:
    """(service processes, PostgreSQL backends) CPU-seconds between two snapshots. A backend
    that appeared in between counts from zero; one that ended in between is lost (connection
    pools keep theirs, so this is small)."""
    service = sum(after.service[pid] - before.service.get(pid, 0.0) for pid in after.service)
    backends = sum(seconds - before.backends.get(pid, 0.0) for pid, seconds in after.backends.items())
    return service, backends
