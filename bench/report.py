"""The printed result: one table of throughput and latency with ratios, one of CPU use."""

from dataclasses import dataclass

from bench.load import LoadResult

A_NAME = "A hello"
B_NAME = "B durable"
WHATIF_NAME = "what-if"


@dataclass(frozen=True)
class Measured:
    name: str
    expect: int
    load: LoadResult
    cpu: dict[str, float]

    @property
    def errors(self) -> int:
        wrong = sum(n for status, n in self.load.statuses.items() if int(status) != self.expect)
        return wrong + self.load.connection_errors

    def error_detail(self) -> str:
        parts = [
            f"{status}x{n}"
            for status, n in self.load.statuses.items()
            if int(status) != self.expect
        ]
        if self.load.connection_errors:
            parts.append(f"connection x{self.load.connection_errors}")
        return ", ".join(parts)


def _ratio(value: float, base: Measured | None) -> str:
    if base is None or base.load.rate == 0:
        return "-"
    return f"{value / base.load.rate:.3f}"


def results_table(results: list[Measured]) -> str:
    by_name = {r.name: r for r in results}
    a, b = by_name.get(A_NAME), by_name.get(B_NAME)
    lines = [
        f"{'name':<10} {'accepted/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'vs A':>7} {'vs B':>7}"
    ]
    for r in results:
        lines.append(
            f"{r.name:<10} {r.load.rate:>10.1f} {r.load.p50_ms:>8.2f} {r.load.p99_ms:>8.2f}"
            f" {r.errors:>7} {_ratio(r.load.rate, a):>7} {_ratio(r.load.rate, b):>7}"
        )
    lines += [f"  {r.name}: {r.error_detail()}" for r in results if r.errors]
    return "\n".join(lines)


CPU_COLUMNS = ("background", "generator", "server", "postgres", "kafka", "other", "machine")


def _per_request(r: Measured, column: str) -> float:
    """CPU milliseconds one accepted request cost that group."""
    return r.cpu.get(column, 0.0) / r.load.rate * 1000 if r.load.rate else 0.0


def cpu_table(results: list[Measured]) -> str:
    """CPU use in cores (1.00 = one core busy) over the measured window; ``background`` is the
    machine's load just before the target started, ``other`` what no measured process used;
    then the server's and PostgreSQL's CPU milliseconds per accepted request."""
    header = " ".join(f"{c:>9}" for c in CPU_COLUMNS)
    lines = [f"{'cores used':<10} {header} {'srv ms/req':>10} {'pg ms/req':>9}"]
    for r in results:
        cores = " ".join(f"{r.cpu.get(c, 0.0):>9.2f}" for c in CPU_COLUMNS)
        lines.append(
            f"{r.name:<10} {cores} {_per_request(r, 'server'):>10.3f}"
            f" {_per_request(r, 'postgres'):>9.3f}"
        )
    return "\n".join(lines)


def machine_lines(machine: dict[str, str]) -> str:
    return "\n".join(f"{key:<11} {value}" for key, value in machine.items())


def repeats(results: list[Measured]) -> str:
    """Mean accepted/s of targets measured more than once, and what-if against intake."""
    rates: dict[str, list[float]] = {}
    for r in results:
        rates.setdefault(r.name, []).append(r.load.rate)
    means = {name: sum(v) / len(v) for name, v in rates.items()}
    lines = [
        f"mean {name}: {means[name]:.1f}/s over {len(v)} runs"
        for name, v in rates.items()
        if len(v) > 1
    ]
    if "intake" in means and WHATIF_NAME in means and means["intake"]:
        lines.append(f"what-if / intake (means): {means[WHATIF_NAME] / means['intake']:.3f}")
    return "\n".join(lines)


def render(settings: str, results: list[Measured], machine: dict[str, str]) -> str:
    parts = [settings, results_table(results), repeats(results), cpu_table(results)]
    parts.append(machine_lines(machine))
    return "\n\n".join(part for part in parts if part)
