"""`make bench`: the figures the issues ask for, measured against the real stack on this machine.

Each figure that is a ratio divides our rate by the machine's own limit measured in the same
run (raw asyncpg), since absolute times drift on shared machines. Prints a table and writes
bench-results.json. `--only B1,L1` runs a subset.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tests.bench.catalogue import FIGURES
from tests.bench.figures import BenchContext, Figure
from tests.bench.stack import bench_stack

console = Console()
app = typer.Typer(add_completion=False)


@app.command()
def main(
    only: Annotated[str | None, typer.Option(help="Comma-separated figure ids, e.g. B1,L1")] = None,
    output: Annotated[Path, typer.Option(help="Where to write the results")] = Path(
        "bench-results.json"
    ),
    api_processes: Annotated[
        int, typer.Option(envvar="API_PROCESSES", help="uvicorn processes per API")
    ] = 1,
) -> None:
    """Run the benchmarks and print their figures."""
    wanted = [figure_id.strip().upper() for figure_id in only.split(",")] if only else list(FIGURES)
    unknown = [figure_id for figure_id in wanted if figure_id not in FIGURES]
    if unknown:
        raise typer.BadParameter(f"unknown figures {unknown}; known: {list(FIGURES)}")
    results: dict[str, Figure] = {}
    with bench_stack(run_id=uuid.uuid4().hex[:8], api_processes=api_processes) as context:
        for figure_id in wanted:
            console.print(f"[bold]running {figure_id}[/bold]: {FIGURES[figure_id].__doc__}")
            results[figure_id] = asyncio.run(FIGURES[figure_id](context))
    show(results)
    output.write_text(json.dumps({k: v.as_json() for k, v in results.items()}, indent=2) + "\n")
    console.print(f"wrote {output}")


def show(results: dict[str, Figure]) -> None:
    table = Table(title="Benchmark figures")
    for column in ("id", "value", "unit", "target", "detail"):
        table.add_column(column)
    for figure_id, figure in results.items():
        table.add_row(figure_id, f"{figure.value:.3f}", figure.unit, figure.target, figure.detail)
    console.print(table)


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    app()


__all__ = ["BenchContext"]
