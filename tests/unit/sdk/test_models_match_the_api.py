"""The SDK's models are the API's: ``make sdk-models`` made from the OpenAPI document the gateway
serves gives back the committed file, byte for byte. A field added to, renamed in or dropped
from a route's model fails this until the SDK is regenerated."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mailmoat.gateway.app import openapi_document

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "sdk" / "python" / "src" / "mailmoat_sdk" / "models.py"


def test_the_committed_models_are_generated_from_the_served_document(tmp_path: Path) -> None:
    made = tmp_path / "models.py"
    subprocess.run(
        ["make", "--no-print-directory", "-s", "sdk-models", f"SDK_MODELS={made}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert made.read_text() == COMMITTED.read_text(), "run `make sdk-models` and commit the result"


def test_every_schema_of_the_document_has_its_model() -> None:
    text = COMMITTED.read_text()
    schemas = openapi_document()["components"]["schemas"]
    assert [name for name in schemas if f"class {name}(" not in text] == []
