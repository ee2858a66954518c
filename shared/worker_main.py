"""`python -m shared.worker_main services.review.worker.WorkerSettings`: a service's arq worker,
as `arq <settings>` runs it, but started again in the same process when Redis is lost
(shared.worker.run_worker)."""

from __future__ import annotations

import importlib
import logging.config
import sys

from arq.logs import default_log_config

from shared.worker import run_worker


def main(argv: list[str]) -> int:
    if len(argv) != 1 or "." not in argv[0]:
        print("usage: python -m shared.worker_main <module.WorkerSettings>", file=sys.stderr)
        return 2
    module_name, _, attribute = argv[0].rpartition(".")
    settings_cls: type = getattr(importlib.import_module(module_name), attribute)
    # As arq's command line does before it runs a worker.
    logging.config.dictConfig(default_log_config(False))
    run_worker(settings_cls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
