"""The export benchmark's printed result: phases with ratios, where the time went, files,
the machine."""

from datetime import datetime
from typing import TYPE_CHECKING

from bench.export_data import ROUND
from bench.export_writers import FORMATS

if TYPE_CHECKING:
    from bench.export import Options, Result, Span

CORE_COLUMNS = ("bench", "receiver", "postgres", "other", "machine")
BUILD_LABELS = {
    "records": "fetch + build_records",
    "files": "write_dataset (JSONL+CSV+XLSX+manifest)",
    "bodies": "batch bodies (batch_body)",
    "fingerprints": "fingerprints (SHA-256 per record)",
    "save": "save_built (batches, fingerprints, row)",
    "rest": "rest (split, counts, announce, pool)",
}
DELIVERY_LABELS = {
    "read": "unacked_batches (read bodies)",
    "post": "POST batches (sign, send, answer)",
    "ack": "ack_batch (per batch)",
    "manifest": "POST manifest",
    "rest": "rest (reconcile, finish, pool)",
}
WRITER_LABELS = {
    "to_json": "to_json only (no file)",
    "jsonl": "JSONL alone",
    "csv": "CSV alone",
    "xlsx": "XLSX alone",
}
FILES = ("records.jsonl", "records.csv", "records.xlsx", "manifest.json")


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base > 0 else "-"


def _rate(records: int, seconds: float) -> str:
    return f"{records / seconds:,.0f}" if seconds > 0 else "-"


def _cores(span: "Span") -> str:
    return " ".join(f"{span.cores.get(c, 0.0):>8.2f}" for c in CORE_COLUMNS)


def phases_table(results: list["Result"]) -> str:
    header = " ".join(f"{c:>8}" for c in CORE_COLUMNS)
    lines = [
        f"{'centers':>8}  {'phase':<32} {'seconds':>9} {'records/s':>10} {'ratio':>9}  {header}"
    ]
    for r in results:
        rows = [
            ("build (handlers.build)", r.build, _ratio(r.build.seconds, r.records_only.seconds)),
            ("a: records only", r.records_only, "1.00"),
            (
                "delivery (handlers.deliver)",
                r.delivery,
                _ratio(r.delivery.seconds, r.raw_delivery.seconds),
            ),
            ("b: raw delivery", r.raw_delivery, "1.00"),
            ("total (build + delivery)", r.total, ""),
        ]
        for number, (name, span, ratio) in enumerate(rows):
            size = f"{r.centers:,}" if number == 0 else ""
            lines.append(
                f"{size:>8}  {name:<32} {span.seconds:>9.3f} {_rate(r.records, span.seconds):>10}"
                f" {ratio:>9}  {_cores(span)}"
            )
    lines.append(
        "ratio: build ÷ a, delivery ÷ b (seconds; 2.00 = twice as long). Cores: CPU seconds per"
        " second of each process group over the phase (the bench process with its threads, the"
        " receiver, PostgreSQL's postmaster and backends, everything else, the whole machine)."
    )
    return "\n".join(lines)


def _parts(title: str, labels: dict[str, str], results: list["Result"], pick: str) -> list[str]:
    lines = [f"{title:<42}" + "".join(f" {r.centers:>12,} {'':>6}" for r in results)]
    for key, label in labels.items():
        cells = []
        for r in results:
            parts: dict[str, float] = getattr(r, f"{pick}_parts")
            whole: float = getattr(r, pick).seconds
            value = whole - sum(parts.values()) if key == "rest" else parts.get(key, 0.0)
            share = f"{value / whole * 100:5.1f}%" if whole > 0 else ""
            cells.append(f" {value:>12.3f} {share:>6}")
        lines.append(f"  {label:<40}" + "".join(cells))
    return lines


def parts_table(results: list["Result"]) -> str:
    if not all(r.build_parts for r in results):
        return "(no breakdown: --no-breakdown)"
    lines = _parts("build, seconds and share", BUILD_LABELS, results, "build")
    lines += _parts("delivery, seconds and share", DELIVERY_LABELS, results, "delivery")
    a_labels = {"records": "fetch + build_records", "jsonl": "JSONL file (thread, fsync)"}
    lines += _parts("a: records only, seconds and share", a_labels, results, "records_only")
    if all(r.writers_alone for r in results):
        lines.append("writers alone, seconds (each with its own to_json per record)")
        for key in FORMATS:
            cells = "".join(f" {r.writers_alone.get(key, 0.0):>12.3f} {'':>6}" for r in results)
            lines.append(f"  {WRITER_LABELS[key]:<40}{cells}")
    return "\n".join(lines)


def files_table(results: list["Result"]) -> str:
    names = (*FILES, "batch bodies", "a: .jsonl")
    lines = [f"{'MB':>8}  " + " ".join(f"{n:>14}" for n in names)]
    for r in results:
        sizes = [r.file_bytes.get(n, 0) for n in FILES]
        sizes += [r.batch_bytes, r.file_bytes.get("baseline a .jsonl", 0)]
        lines.append(f"{r.centers:>8,}  " + " ".join(f"{b / 1e6:>14.2f}" for b in sizes))
    return "\n".join(lines)


def data_lines(results: list["Result"]) -> str:
    lines = []
    for r in results:
        d = r.data
        lines.append(
            f"{r.centers:,} centers: {d.get('versions', 0):,} versions, {d.get('reporting', 0):,}"
            f" reporting ({d.get('amended', 0):,} amended, {d.get('unscored', 0):,} unscored),"
            f" records on_time {r.counts.get('on_time', 0):,}, late {r.counts.get('late', 0):,},"
            f" missing {r.counts.get('missing', 0):,}; {r.batches} batches; export {r.state};"
            f" data filled in {r.fill_seconds:.1f} s (untimed); machine busy {r.background:.2f}"
            f" cores before the first phase; peak RSS {r.peak_rss_mib:,.0f} MiB"
        )
    return "\n".join(lines)


def machine_lines(machine: dict[str, str]) -> str:
    return "\n".join(f"{key:<11} {value}" for key, value in machine.items())


def render(
    options: "Options", when: datetime, results: list["Result"], machine: dict[str, str]
) -> str:
    settings = (
        f"export of round {ROUND.id} | {when:%Y-%m-%d %H:%M} UTC | batches of"
        f" {options.batch_size} | receiver: python -m gecc.pmo_receiver on this machine"
    )
    parts = [
        settings,
        phases_table(results),
        parts_table(results),
        files_table(results),
        data_lines(results),
        machine_lines(machine),
    ]
    return "\n\n".join(parts)
