"""Every figure `make bench` knows, by id, in the order a full run takes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.bench.abuse_figures import figure_s4
from tests.bench.chaos_figures import figure_f10
from tests.bench.fault_figures import figure_f2, figure_f3, figure_f4, figure_f8
from tests.bench.figures import (
    BenchContext,
    Figure,
    figure_b1,
    figure_b1x,
    figure_b2,
    figure_l1,
    figure_v1,
    figure_v2,
)
from tests.bench.flow_figures import figure_b4
from tests.bench.fuzz_figures import figure_s8
from tests.bench.ledger_figures import figure_b5
from tests.bench.registry_figures import figure_b3, figure_r1, figure_r2, figure_r3
from tests.bench.soak import figure_soak

FIGURES: dict[str, Callable[[BenchContext], Awaitable[Figure]]] = {
    "L1": figure_l1,
    "B1": figure_b1,
    "B1X": figure_b1x,
    "B4": figure_b4,
    "V1": figure_v1,
    "V2": figure_v2,
    "B5": figure_b5,
    # A million ledger records, seeded by the first of them that runs.
    "R1": figure_r1,
    "R2": figure_r2,
    "R3": figure_r3,
    "B3": figure_b3,
    "S4": figure_s4,
    # Ten minutes of the whole flow (SOAK_SECONDS), before B2 floods the queue.
    "SOAK": figure_soak,
    # Last: its 100,000 messages keep the relay and review busy for a while after it.
    "B2": figure_b2,
    # Faults with N submissions (FAULT_FIGURE_REPORTS, default 10,000), each on a stack of its
    # own: long, so last.
    "F2": figure_f2,
    "F3": figure_f3,
    "F4": figure_f4,
    "F8": figure_f8,
    # F1-F4 and F8 at random for CHAOS_SECONDS (default 600) on a stack of its own.
    "F10": figure_f10,
    # The parsers fuzzed for S8_SECONDS (default an hour): needs no stack, so it can run alone.
    "S8": figure_s8,
}
