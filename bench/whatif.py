"""What-if runs of intake, to measure a suggestion before anyone makes it.

``python -m bench.whatif [--env NAME=VALUE ...] [--path DIR]``
starts intake exactly as ``python -m services.intake`` does, with the named settings or
import path changed (no file changes). Measure it in turn with the unchanged service (the
machine's speed drifts, so compare neighbours in one run)::

    .venv/bin/python -m bench.intake --targets b,intake,whatif,intake,whatif \\
        --whatif="--env GECC_INTAKE_OUTBOX_BUSY_POLL_MS=100"

- ``--env NAME=VALUE``: set an environment variable before the settings are read (also
  seen by the outbox relay's child process); repeatable.
- ``--path DIR``: ``DIR`` first on ``sys.path``, e.g. a directory where uvloop and
  httptools were installed (``pip install --target DIR uvloop httptools``): uvicorn then
  picks them, as with ``uvicorn[standard]``; or a worktree of another commit
  (``git worktree add /tmp/before HEAD~1``) to measure a change against the code before it.
"""

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="set a variable"
    )
    parser.add_argument(
        "--path", action="append", default=[], help="put DIR first on sys.path (e.g. uvloop)"
    )
    args = parser.parse_args(argv)
    for assignment in args.env:
        name, sep, value = assignment.partition("=")
        if not sep:
            parser.error(f"--env {assignment!r}: expected NAME=VALUE")
        os.environ[name] = value
    sys.path[:0] = args.path
    if args.path:
        os.environ["PYTHONPATH"] = os.pathsep.join([*args.path, os.environ.get("PYTHONPATH", "")])
    # Imported only now, so that --path can also hold another version of the code.
    from services.intake.app import create_app
    from services.intake.settings import IntakeSettings
    from shared.service.process import run_service

    return run_service(IntakeSettings(), create_app, ["serve"])


if __name__ == "__main__":
    sys.exit(main())
