"""The alert rules and the Grafana dashboard in deploy/observability speak of metrics the code
really exports: a renamed metric fails here, not silently on an operator's screen."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
METRIC_NAME = re.compile(r"\bconduct_[a-z_]+\b")
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum", "_created")


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """Every series name the three APIs and workers can export."""
    for module in ("app", "worker"):
        for service in ("intake", "review", "registry"):
            importlib.import_module(f"services.{service}.{module}")
    names = {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("conduct_")
        for suffix in SUFFIXES
    }
    assert "conduct_http_requests_total" in names
    return names


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_alert_is_complete_and_uses_exported_metrics(exported: set[str]) -> None:
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    # The four: outbox lag, dead letters, error rate, overdue cases.
    assert {
        "ConductOutboxLagging",
        "ConductDeadLetters",
        "ConductHighErrorRate",
        "ConductCasesOverdue",
    } <= names
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        used = set(METRIC_NAME.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= exported, (rule["alert"], used - exported)


def test_every_dashboard_panel_uses_exported_metrics(exported: set[str]) -> None:
    expressions = dashboard_expressions()
    assert len(expressions) >= 9
    for expression in expressions:
        used = set(METRIC_NAME.findall(expression))
        assert used and used <= exported, (expression, used - exported)


def test_a_misspelt_metric_would_be_caught(exported: set[str]) -> None:
    assert not set(METRIC_NAME.findall("rate(conduct_http_request_total[5m])")) <= exported
