"""``python -m gecc.pmo_receiver``: the same as ``gecc pmo-receiver``."""

import argparse
from collections.abc import Sequence
from pathlib import Path

from gecc.pmo_receiver import DEFAULT_HOST, DEFAULT_PORT, SECRET_ENV
from gecc.pmo_receiver.server import Options, run


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gecc.pmo_receiver",
        description="The reference OPS/PMO receiver of GECC exports.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--dir", type=Path, default=None, help="default: $GECC_HOME/pmo")
    parser.add_argument("--secret", default=None, help=f"default: ${SECRET_ENV} or the local one")
    parser.add_argument("--fail-share", type=float, default=0.0, help="answer 503 to this share")
    parser.add_argument("--slow-share", type=float, default=0.0, help="answer late to this share")
    parser.add_argument("--slow-seconds", type=float, default=0.0, help="how late")
    parser.add_argument("--seed", type=int, default=None, help="makes the injection repeatable")
    args = parser.parse_args(argv)
    run(
        Options(
            host=args.host,
            port=args.port,
            directory=args.dir,
            secret=args.secret,
            fail_share=args.fail_share,
            slow_share=args.slow_share,
            slow_seconds=args.slow_seconds,
            seed=args.seed,
        )
    )


if __name__ == "__main__":
    main()
