"""The container image built and run without a Docker daemon: Debian's buildah, podman and runc
(not crun, which fails on hybrid cgroups), every piece of state under one temporary folder.

The base is made here too, from the machine's own package mirror: ``debootstrap --variant=minbase
--include=python3 bookworm`` imported into an image with ``buildah from scratch``, ``add`` and
``commit`` (kept as a tarball under ``.tools/image`` so a second run skips debootstrap). The uv
stage's image is the machine's own ``uv`` binary, committed the same way. The project's
``Dockerfile`` then builds with ``--build-arg BASE_IMAGE=... UV_IMAGE=...`` naming those two, and
nothing is pulled from a registry.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".tools" / "image"
PACKAGES = ("buildah", "podman", "runc", "debootstrap")
SUITE = "bookworm"
BASE_IMAGE = "localhost/mailmoat-base:bookworm"
UV_IMAGE = "localhost/mailmoat-uv:local"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_STATE = (
    Path("/var/lib/containers"),
    Path("/run/containers"),
    Path("/run/libpod"),
    Path("/run/buildah"),
    Path("/var/tmp/buildah-cache-0"),
    Path.home() / ".config" / "containers",
)
"""Where buildah and podman keep state when not told otherwise: removed afterwards if this run
made them (the temporary storage settings keep most state away from them, not all)."""


class ImageToolsUnavailable(RuntimeError):
    """buildah, podman, runc or debootstrap is missing and cannot be installed here."""


class CommandFailed(RuntimeError):
    """A build or run command exited non-zero; the message carries its output's tail."""


def ensure_tools() -> None:
    """Install Debian's packages when one of the commands is missing (root and apt-get needed)."""
    if not _missing():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ImageToolsUnavailable(
            f"missing {', '.join(_missing())}: install Debian's {' '.join(PACKAGES)} (as root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        _run(install, env=env, timeout=900)
    if _missing():
        raise ImageToolsUnavailable(f"still missing after apt-get: {', '.join(_missing())}")


def _missing() -> list[str]:
    return [name for name in PACKAGES if _which(name) is None]


def _which(name: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


def _run(
    command: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(command), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-4000:]
        raise CommandFailed(f"{' '.join(command)} exited {done.returncode}:\n{tail}")
    return done


@dataclass(frozen=True)
class Engine:
    """buildah and podman sharing one storage under ``home``: runc, cgroupfs, the host's
    network namespace, and no registry to pull from."""

    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]),
            "CONTAINERS_CONF": str(self.home / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(self.home / "storage.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(self.home / "registries.conf"),
            "REGISTRY_AUTH_FILE": str(self.home / "auth.json"),
            "BUILDAH_ISOLATION": "chroot",
            "TMPDIR": str(self.home / "tmp"),
        }

    def buildah(self, *args: str, timeout: float = 600) -> str:
        return _run(["buildah", *args], env=self.env, timeout=timeout).stdout

    def podman(self, *args: str, timeout: float = 600) -> str:
        return _run(["podman", *args], env=self.env, timeout=timeout).stdout

    def popen_podman(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with open(log, "ab") as sink:
            return subprocess.Popen(
                ["podman", *args], env=self.env, stdout=sink, stderr=subprocess.STDOUT
            )

    def podman_status(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@contextlib.contextmanager
def engine() -> Iterator[Engine]:
    """A fresh storage and settings under a temporary folder, removed afterwards with whatever
    default state folders the tools made on the way."""
    ensure_tools()
    existed = {path for path in DEFAULT_STATE if path.exists()}
    home = Path(tempfile.mkdtemp(prefix="mailmoat-containers-"))
    (home / "tmp").mkdir()
    (home / "storage.conf").write_text(
        "[storage]\n"
        'driver = "overlay"\n'
        f'graphroot = "{home / "graph"}"\n'
        f'runroot = "{home / "run"}"\n'
    )
    (home / "containers.conf").write_text(
        "[containers]\n"
        'netns = "host"\n'
        'default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
        f'events_logfile_path = "{home / "events.log"}"\n'
        f'tmp_dir = "{home / "libpod"}"\n'
        f'volume_path = "{home / "volumes"}"\n'
    )
    (home / "registries.conf").write_text("unqualified-search-registries = []\n")
    (home / "auth.json").write_text('{"auths": {}}\n')
    built = Engine(home)
    try:
        yield built
    finally:
        # Overlay mounts and container state go with podman's own reset, then the folder.
        subprocess.run(
            ["podman", "system", "reset", "--force"],
            env=built.env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        shutil.rmtree(home, ignore_errors=True)
        for path in DEFAULT_STATE:
            if path not in existed:
                shutil.rmtree(path, ignore_errors=True)


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line sources)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if source.suffix not in {".list", ".sources"} or not source.is_file():
            continue
        for line in source.read_text().splitlines():
            found = re.match(r"\s*(?:URIs:|deb)\s+(\S+)", line)
            if found and "security" not in found.group(1) and "debian" in found.group(1):
                return found.group(1)
    return DEFAULT_MIRROR


def base_tarball() -> Path:
    """A minimal Debian with Python 3, as a tarball under ``.tools/image`` (debootstrap once)."""
    tarball = CACHE / f"{SUITE}-minbase-python3.tar"
    if tarball.is_file():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=".rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        _run(
            [
                _which("debootstrap") or "debootstrap",
                "--variant=minbase",
                "--include=python3",
                SUITE,
                str(rootfs),
                debian_mirror(),
            ],
            timeout=1200,
        )
        # Device nodes and package caches are not part of an image: the runtime mounts /dev.
        for emptied in (
            rootfs / "dev",
            rootfs / "var" / "cache" / "apt",
            rootfs / "var" / "lib" / "apt" / "lists",
        ):
            for entry in emptied.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        partial = tarball.with_suffix(".partial")
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."])
        partial.rename(tarball)
    return tarball


def import_base(engine: Engine, tag: str = BASE_IMAGE) -> str:
    """The Debian tarball committed as an image named ``tag``."""
    container = engine.buildah("from", "scratch").strip()
    engine.buildah("add", container, str(base_tarball()), "/")
    engine.buildah("config", "--cmd", "python3", "--env", "LANG=C.UTF-8", container)
    engine.buildah("commit", "--rm", container, tag)
    return tag


def uv_binary() -> Path:
    """The uv the Makefile uses (``python3 -m uv``), else the one on PATH."""
    found = subprocess.run(
        ["python3", "-c", "import uv; print(uv.find_uv_bin())"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode == 0 and Path(found.stdout.strip()).is_file():
        return Path(found.stdout.strip())
    on_path = shutil.which("uv")
    if on_path is None:
        raise ImageToolsUnavailable("no uv binary: pip install uv")
    return Path(on_path)


def import_uv(engine: Engine, tag: str = UV_IMAGE) -> str:
    """An image holding only ``/uv``, the layout of uv's published images."""
    container = engine.buildah("from", "scratch").strip()
    engine.buildah("copy", "--chmod", "0755", container, str(uv_binary()), "/uv")
    engine.buildah("commit", "--rm", container, tag)
    return tag


def build_image(engine: Engine, tag: str, *, context: Path = ROOT) -> str:
    """The project's Dockerfile built on the local base and uv images."""
    base = import_base(engine)
    uv = import_uv(engine)
    engine.buildah(
        "bud",
        "--isolation",
        "chroot",
        "--pull=never",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "--build-arg",
        f"UV_IMAGE={uv}",
        *_ca_secret(),
        "--tag",
        tag,
        "--file",
        str(context / "Dockerfile"),
        str(context),
        timeout=1800,
    )
    return tag


def _ca_secret() -> list[str]:
    """This machine's CA bundle as the build's ``ca-bundle`` secret, for when its way to the
    package index passes a TLS-inspecting proxy (``SSL_CERT_FILE`` names the bundle)."""
    bundle = os.environ.get("SSL_CERT_FILE", "")
    return ["--secret", f"id=ca-bundle,src={bundle}"] if bundle and Path(bundle).is_file() else []
