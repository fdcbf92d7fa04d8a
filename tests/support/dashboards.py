"""The Grafana dashboards in ``deploy/grafana``: their panels and PromQL, with every Grafana
variable replaced by a concrete value so each query runs as is against a real Prometheus."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
"""The only data source reference a dashboard may hold: its own ``datasource`` variable."""
VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "datasource": "prometheus",
    "job": ".*",
}
"""What each Grafana variable stands for when a query runs outside Grafana."""
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return dashboard


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those folded inside a row included; rows themselves are left out."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def exprs(panel: dict[str, Any]) -> list[str]:
    """The panel's PromQL as written, variables and all."""
    return [target["expr"] for target in panel.get("targets", []) if target.get("expr")]


def substitute(expr: str) -> str:
    """``expr`` with every Grafana variable replaced; an unknown variable is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in VARIABLES:
            raise ValueError(f"unknown Grafana variable ${name} in {expr!r}")
        return VARIABLES[name]

    return _VARIABLE.sub(value, expr)


def queries() -> list[tuple[str, str, str]]:
    """(dashboard title, panel title, runnable expr) for every target of every dashboard."""
    found = []
    for path in dashboard_files():
        dashboard = load(path)
        for panel in panels(dashboard):
            for expr in exprs(panel):
                found.append((dashboard["title"], panel["title"], substitute(expr)))
    return found
