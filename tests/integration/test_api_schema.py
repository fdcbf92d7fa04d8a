"""Schemathesis over every operation of the served OpenAPI document, against the gateway
process: generated requests never get a 5xx, and every answer (success or problem) matches the
documented status codes, content types and schemas."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.settings import CommonSettings
from tests.support.stack import gateway_process

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


async def test_every_operation_answers_within_its_schema(
    settings: CommonSettings, tmp_path: Path
) -> None:
    with gateway_process(settings, tmp_path, MAILMOAT_API_RATE_PER_MINUTE="100000") as stack:
        made = await bootstrap_workspace(settings.database_url, name="fuzz", plan="enterprise")
        auth = {"Authorization": f"Bearer {made.api_key}"}
        async with httpx.AsyncClient(base_url=stack.api, headers=auth, timeout=10) as client:
            # Something to find: generated slugs and ids mostly miss, these may be hit.
            await client.post("/inboxes", json={"slug": "fuzz", "security_level": "L3"})
            document = (await client.get("/openapi.json")).json()
        base_url = stack.api.removesuffix("/api/v1")
        operations = await asyncio.to_thread(_fuzz, document, base_url, auth)
    assert operations >= 25


def _fuzz(document: dict[str, object], base_url: str, auth: dict[str, str]) -> int:
    schema = schemathesis.openapi.from_dict(document)
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        count += 1

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=base_url, headers=auth)
            case.validate_response(response, checks=CHECKS)

        run()
    return count
