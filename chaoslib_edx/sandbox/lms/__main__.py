"""Run one LMS replica: `python -m chaoslib_edx.sandbox.lms --replica lms-1 --port P ...`."""

import argparse
import json
from pathlib import Path

from waitress import serve

from chaoslib_edx.sandbox import credentials
from chaoslib_edx.sandbox.lms.app import LmsConfig, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replica", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args()
    settings = json.loads((args.state_dir / "conf" / "lms.json").read_text())
    config = LmsConfig(replica=args.replica, db_port=settings["db_port"],
                       redis_port=settings["redis_port"],
                       db_password=credentials.read(args.state_dir / "secrets.env")["DB_PASSWORD"],
                       tracking_dir=args.state_dir / "logs" / "tracking",
                       login_rate_limit=settings["login_rate_limit"])
    serve(create_app(config), host="127.0.0.1", port=args.port,
          threads=settings["threads"], ident=f"edx-sandbox-{args.replica}",
          connection_limit=1000, channel_timeout=30)


if __name__ == "__main__":
    main()
