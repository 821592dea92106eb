"""The Token Atlas image built and run with podman on a Debian machine that reaches no container registry.

The official ``python`` and ``node`` images cannot be pulled here, so the Dockerfile's base images (build arguments
``PYTHON_IMAGE`` and ``NODE_IMAGE``) are made from Debian packages: ``debootstrap --variant=minbase bookworm``, the
packages of :data:`RECIPE` added with ``chroot DIR apt-get install``, the root filesystem imported with
``podman import``. The two root filesystems are cached as tar files under ``.cache/container-bases/<key>/``, where the
key is a hash of the recipe, so a second run bootstraps nothing. The image is built with chroot isolation (no OCI
runtime while building) and the host's CA bundle mounted for ``pip`` and ``npm``, and run with runc on the host's
network (docs/container.md).

    >>> len(recipe_key()), recipe_key() == recipe_key()
    (12, True)
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASES_CACHE = ROOT / ".cache" / "container-bases"
#: The machine's CA bundle (it holds the proxy's authority), mounted into the build as one file of its own: mounting
#: /etc/ssl/certs itself would break the ca-certificates package's install step inside a build.
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CA_IN_BUILD = "/run/host-ca.crt"
#: Every base image: one Debian release, the smallest variant, and per base what the Dockerfile's stage expects of the
#: official image it replaces (Python 3.11 with venv and useradd; Node.js with npm). Changing it changes the key.
RECIPE: dict[str, object] = {
    "suite": "bookworm",
    "variant": "minbase",
    "bases": {"python": ["python3", "python3-venv", "passwd"], "node": ["nodejs", "npm"]},
}
#: Build arguments naming each base image in the Dockerfile.
BASE_ARGS = {"python": "PYTHON_IMAGE", "node": "NODE_IMAGE"}
TOOLS = ("podman", "runc", "debootstrap")

Say = Callable[[str], None]


def recipe_key() -> str:
    """A short hash of :data:`RECIPE` and the machine's architecture: the cache folder and the base images' tag."""
    arch = os.uname().machine
    return hashlib.sha256(json.dumps({"recipe": RECIPE, "arch": arch}, sort_keys=True).encode()).hexdigest()[:12]


def tool(name: str) -> str | None:
    """The path of the program ``name``, looking in the system folders too (debootstrap, runc and chroot live in
    /usr/sbin, which a user's PATH may lack)."""
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def missing_tools() -> list[str]:
    """The programs of :data:`TOOLS` that are not installed (``bash .ci/install-browser`` installs them)."""
    return [t for t in TOOLS if tool(t) is None]


def run(cmd: list[str], *, timeout: float, say: Say | None = None, **kw) -> subprocess.CompletedProcess:
    """Run ``cmd``; its output captured. Raises RuntimeError (with the output's tail) when it fails or times out."""
    if say:
        say("$ " + " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        tail = (e.stdout or b"")[-3000:] if isinstance(e.stdout, bytes) else (e.stdout or "")[-3000:]
        raise RuntimeError(f"`{' '.join(cmd[:4])} ...` took more than {timeout:.0f} s: {tail}") from e
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd[:4])} ...` failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}")
    return proc


def image_exists(name: str) -> bool:
    return subprocess.run(["podman", "image", "exists", name], capture_output=True).returncode == 0


def _bootstrap_rootfs(packages: list[str], dest_tar: Path, work: Path, *, deadline: float, say: Say) -> None:
    """debootstrap a root filesystem, add ``packages`` inside it, and write it as ``dest_tar`` (atomically); every
    command must end before ``deadline`` (time.monotonic())."""
    def left() -> float:
        return max(1.0, deadline - time.monotonic())

    rootfs = work / "rootfs"
    chroot = tool("chroot") or "chroot"
    debootstrap = tool("debootstrap") or "debootstrap"
    sbin = {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"}  # debootstrap calls chroot
    run([debootstrap, f"--variant={RECIPE['variant']}", str(RECIPE["suite"]), str(rootfs)], timeout=left(), say=say,
        env=sbin)
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    run([chroot, str(rootfs), "apt-get", "update", "-qq"], timeout=left(), say=say, env=env)
    run([chroot, str(rootfs), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        timeout=left(), say=say, env=env)
    run([chroot, str(rootfs), "apt-get", "clean"], timeout=left(), env=env)
    shutil.rmtree(rootfs / "var" / "lib" / "apt" / "lists", ignore_errors=True)
    (rootfs / "var" / "lib" / "apt" / "lists" / "partial").mkdir(parents=True)
    tmp = dest_tar.with_name(dest_tar.name + ".tmp")
    run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tmp), "."], timeout=left(), say=say)
    os.replace(tmp, dest_tar)


def ensure_bases(*, timeout: float = 1800, say: Say = print) -> dict[str, str]:
    """The local base images, ``{"python": "localhost/token-atlas-base-python:<key>", "node": ...}``.

    Bootstraps a root filesystem only when its tar file is not in the cache, and imports it only when podman does
    not hold the image already; all of it within ``timeout`` seconds (RuntimeError otherwise).
    """
    deadline = time.monotonic() + timeout
    key = recipe_key()
    folder = BASES_CACHE / key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recipe.json").write_text(json.dumps(RECIPE, indent=1, sort_keys=True) + "\n")
    images = {}
    for base, packages in RECIPE["bases"].items():  # type: ignore[union-attr]
        image = f"localhost/token-atlas-base-{base}:{key}"
        tar = folder / f"{base}.tar"
        if not image_exists(image):
            if not tar.is_file():
                started = time.monotonic()
                with tempfile.TemporaryDirectory(dir=folder, prefix=f"{base}-") as work:
                    _bootstrap_rootfs(packages, tar, Path(work), deadline=deadline, say=say)
                say(f"bootstrapped the {base} base in {time.monotonic() - started:.0f} s")
            run(["podman", "import", str(tar), image], timeout=max(1.0, deadline - time.monotonic()), say=say)
        images[base] = image
    return images


def build_image(tag: str, bases: dict[str, str], *, log: Path, build_args: dict[str, str] | None = None,
                timeout: float = 3600, say: Say = print) -> None:
    """``podman build`` the repository's Dockerfile as ``tag`` on the local bases: Docker's image format (the OCI
    format drops the HEALTHCHECK), chroot isolation, the host's network, and the host's CA bundle mounted for pip and
    npm. The build's output goes to ``log`` as it runs. Raises RuntimeError with the log's tail if it fails."""
    args = {BASE_ARGS[b]: image for b, image in bases.items()}
    args |= {"PIP_CERT": CA_IN_BUILD, "NODE_EXTRA_CA_CERTS": CA_IN_BUILD, **(build_args or {})}
    cmd = ["podman", "build", "--format=docker", "--isolation=chroot", "--network=host",
           "-v", f"{HOST_CA}:{CA_IN_BUILD}:ro", "-f", str(ROOT / "Dockerfile"), "-t", tag]
    for name, value in args.items():
        cmd += ["--build-arg", f"{name}={value}"]
    cmd.append(str(ROOT))
    say("$ " + " ".join(cmd) + f"  > {log}")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            code = None
    if code != 0:
        tail = log.read_text(errors="replace")[-4000:]
        what = f"took more than {timeout:.0f} s" if code is None else f"failed ({code})"
        raise RuntimeError(f"podman build {what}:\n{tail}")


def image_command(tag: str) -> list[str]:
    """The image's CMD, as its config records it."""
    out = run(["podman", "image", "inspect", "--format", "{{json .Config.Cmd}}", tag], timeout=60).stdout
    return json.loads(out)


def ulimit_args() -> list[str]:
    """``--ulimit`` options a container can start with: this process's own hard limits on open files and processes.

    As root, podman gives a container 1,048,576 of each, and runc cannot raise a limit above the hard limit without
    CAP_SYS_RESOURCE, which a process in a sandbox may lack ("error setting rlimit type 7: operation not permitted").
    ``--ulimit host`` copies podman's own limits, but podman first lowers its process limit to the kernel's
    ``pid_max``, so where the host's limit is higher the copy fails too ("rlimit type 6"). Hence both, explicitly,
    the process limit capped at ``pid_max``.

        >>> ulimit_args()[0], ulimit_args()[2]
        ('--ulimit', '--ulimit')
    """
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    nproc = pid_max if nproc == resource.RLIM_INFINITY else min(nproc, pid_max)
    nofile = 1048576 if nofile == resource.RLIM_INFINITY else nofile
    return ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]


def run_detached(tag: str, name: str, command: list[str], *, env: dict[str, str] | None = None) -> None:
    """Start ``command`` in a container of ``tag`` named ``name`` (runc, this process's limits, host network)."""
    cmd = ["podman", "--runtime", "runc", "run", "-d", "--name", name, *ulimit_args(), "--network=host"]
    for k, v in (env or {}).items():
        cmd += ["-e", f"{k}={v}"]
    run([*cmd, tag, *command], timeout=120)


def run_once(tag: str, command: list[str], *, timeout: float = 300) -> str:
    """Run ``command`` in a throwaway container of ``tag``; its standard output."""
    return run(["podman", "--runtime", "runc", "run", "--rm", *ulimit_args(), "--network=host", tag, *command],
               timeout=timeout).stdout


def remove_container(name: str) -> None:
    """Stop and remove the container ``name`` if it exists (a second call is harmless)."""
    subprocess.run(["podman", "rm", "-f", "-t", "5", name], capture_output=True, timeout=120)


def logs(name: str) -> str:
    proc = subprocess.run(["podman", "logs", name], capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


def wait_healthy(url: str, name: str, *, timeout: float = 300) -> None:
    """Poll ``url``/_stcore/health until it answers ``ok``. Raises RuntimeError with the container's log if the
    container stops or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            pass
        state = subprocess.run(["podman", "container", "inspect", "--format", "{{.State.Running}}", name],
                               capture_output=True, text=True, timeout=60)
        if state.stdout.strip() != "true" or time.monotonic() > deadline:
            raise RuntimeError(f"the container {name} did not become healthy at {url}: {logs(name)[-3000:]}")
        time.sleep(0.5)
