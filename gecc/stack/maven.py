"""Java programs the stack runs straight from Maven Central (Kafka, S3Proxy): Maven resolves a
``deploy/<component>/pom.xml`` into the local Maven repository once, and the classpath it
writes is kept under the home until the pom changes. Nothing is built."""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from gecc.stack.config import StackConfig
from gecc.stack.errors import StackError

MAVEN_TIMEOUT = 900.0


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    if candidate is not None and candidate.is_file():
        return str(candidate)
    found = shutil.which("java")
    if found is None:
        raise StackError("java not found: install OpenJDK 17 (e.g. apt-get install openjdk-17-jre)")
    return found


def classpath(config: StackConfig, component: str, pom: Path, work_dir: Path) -> str:
    """The classpath of ``pom``'s dependencies, resolved by Maven once and cached in
    ``work_dir`` until the pom changes (or a jar is gone from the Maven repository)."""
    cache = work_dir / "classpath.txt"
    pom_hash = work_dir / "pom.sha256"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if cache.exists() and pom_hash.exists() and pom_hash.read_text().strip() == digest:
        kept = cache.read_text().strip()
        if kept and all(Path(jar).is_file() for jar in kept.split(os.pathsep)):
            return kept
    resolved = _resolve_with_maven(config, component, pom, cache)
    pom_hash.write_text(digest + "\n")
    return resolved


def _resolve_with_maven(config: StackConfig, component: str, pom: Path, cache: Path) -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "mvn not found: install Apache Maven 3.8+ (e.g. apt-get install maven); "
            f"it fetches {component} from Maven Central"
        )
    log = config.log_file("maven")
    log.parent.mkdir(parents=True, exist_ok=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".tmp")
    print(f"{component:<11} fetching its jars with Maven (slow the first time)", flush=True)
    command = [mvn, "-q", "-B", "-f", str(pom), "dependency:build-classpath"]
    command.append(f"-Dmdep.outputFile={partial}")
    with log.open("w") as output:
        try:
            result = subprocess.run(
                command,
                cwd=pom.parent,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=MAVEN_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise StackError(f"mvn took over {MAVEN_TIMEOUT:.0f} s: see {log}") from None
    if result.returncode != 0 or not partial.exists():
        raise StackError(f"mvn failed (exit {result.returncode}) fetching {component}: see {log}")
    os.replace(partial, cache)
    return cache.read_text().strip()
