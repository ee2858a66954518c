"""A worker process imports no router, so its models must bring in every table they point at.

Each service's worker module is imported in a fresh interpreter and its mappers configured:
a foreign key to a table no imported module defines fails here instead of in every job.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.messages import SERVICES, Service


@pytest.mark.parametrize("service", SERVICES)
def test_worker_maps_every_table_its_models_reference(service: Service) -> None:
    base = f"{service.capitalize()}Base"
    probe = (
        f"import services.{service}.worker\n"
        f"from services.{service}.base import {base}\n"
        "from sqlalchemy.orm import configure_mappers\n"
        "configure_mappers()\n"
        f"for table in {base}.metadata.tables.values():\n"
        "    for foreign_key in table.foreign_keys:\n"
        "        foreign_key.column  # raises NoReferencedTableError if never imported\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
