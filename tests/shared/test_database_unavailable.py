"""Which driver errors mean "the database is away" (503, retry shortly) rather than a fault of
ours (500). F4 (tests/faults/test_database_loss.py) shows it end to end: a connection reset in
the middle of a statement used to reach the caller as a 500."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from shared.errors import database_unavailable


class DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("driver text the caller must never see")
        self.sqlstate = sqlstate


def dbapi_error(sqlstate: str | None = None, *, invalidated: bool = False) -> DBAPIError:
    return DBAPIError("SELECT 1", {}, DriverError(sqlstate), connection_invalidated=invalidated)


def test_a_connection_lost_mid_statement_is_unavailability() -> None:
    assert database_unavailable(dbapi_error(invalidated=True))


def test_a_server_shutting_down_or_refusing_connections_is_unavailability() -> None:
    assert database_unavailable(dbapi_error("57P01"))  # admin_shutdown
    assert database_unavailable(dbapi_error("08006"))  # connection_failure
    assert database_unavailable(OperationalError("SELECT 1", {}, DriverError(None)))
    assert database_unavailable(ConnectionRefusedError())


def test_a_bad_statement_is_not_unavailability() -> None:
    assert not database_unavailable(dbapi_error("23505"))  # unique_violation: our fault
    assert not database_unavailable(dbapi_error(None))
    assert not database_unavailable(ValueError("not a database error"))
