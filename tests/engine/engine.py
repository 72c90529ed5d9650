"""Find a Docker-API container engine for the container tests (stdlib only).

    from tests.engine.engine import find_engine, EngineUnavailable
    eng = find_engine()              # raises EngineUnavailable(reason)
    eng.docker("build", "-t", "x", ".")
    eng.docker("compose", "up", "-d", "--build", cwd=project_dir)

Order: (1) whatever `docker info` reaches with the current environment (a real
Docker daemon, or the engine DOCKER_HOST names) is used as is; (2) else, when
podman is installed or CI=true, tests/engine/bootstrap.sh brings up (and, on a
fresh machine, installs) the private podman engine and that is used; (3) else
EngineUnavailable says why and how to get one.

Run `python -m tests.engine.engine` (or `python tests/engine/engine.py`) to
see which engine is found.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BOOTSTRAP = Path(__file__).resolve().with_name("bootstrap.sh")
#: the socket bootstrap.sh serves the Docker API on
PRIVATE_SOCKET = "/run/tmpl-podman/podman.sock"
PRIVATE_DOCKER_HOST = "unix://" + PRIVATE_SOCKET
#: enough for a first bootstrap on a fresh machine (apt + 2 debootstraps)
BOOTSTRAP_TIMEOUT = 1200
DEFAULT_TIMEOUT = 900


class EngineUnavailable(RuntimeError):
    """No container engine could be found or brought up; str() says why."""


class EngineCommandError(subprocess.CalledProcessError):
    """A docker command failed; the message carries its stdout and stderr."""

    def __str__(self) -> str:
        cmd = shlex.join(str(a) for a in self.cmd) if isinstance(self.cmd, (list, tuple)) else str(self.cmd)
        return (
            f"`{cmd}` exited with {self.returncode}\n"
            f"--- stdout ---\n{_tail(self.stdout)}\n--- stderr ---\n{_tail(self.stderr)}"
        )


def _tail(text: str | None, limit: int = 6000) -> str:
    text = text or ""
    return text if len(text) <= limit else "...\n" + text[-limit:]


# Boolean flags (taking no value) of `docker run`, `docker compose` and
# `docker compose run`: enough to find where the options end (image/service).
_RUN_BOOL = {
    "--rm",
    "-d",
    "--detach",
    "-i",
    "--interactive",
    "-t",
    "--tty",
    "-P",
    "--publish-all",
    "--privileged",
    "--init",
    "--read-only",
    "--no-healthcheck",
    "--oom-kill-disable",
    "--disable-content-trust",
    "-q",
    "--quiet",
    "--sig-proxy",
    "--help",
}
_COMPOSE_BOOL = {"--all-resources", "--compatibility", "--dry-run", "--help"}
_COMPOSE_RUN_BOOL = {
    "--rm",
    "-d",
    "--detach",
    "-i",
    "--interactive",
    "-T",
    "--no-TTY",
    "-t",
    "--tty",
    "--build",
    "--dry-run",
    "--no-deps",
    "-q",
    "--quiet",
    "--quiet-build",
    "--quiet-pull",
    "--remove-orphans",
    "-P",
    "--service-ports",
    "--use-aliases",
    "--help",
}


def _first_positional(args: list[str], start: int, bool_flags: set[str]) -> int:
    """Index of the first non-option argument in args[start:] (len(args) if none)."""
    i = start
    while i < len(args):
        a = args[i]
        if a == "--":
            return i + 1
        if not a.startswith("-") or a == "-":
            return i
        if (
            "=" in a
            or a in bool_flags
            or (
                # combined short booleans such as -it, -dit
                not a.startswith("--") and len(a) > 2 and all(f"-{c}" in bool_flags for c in a[1:])
            )
        ):
            i += 1
        else:
            i += 2  # option with a separate value
    return len(args)


def _is_detached(opts: list[str]) -> bool:
    return any(
        o in ("-d", "--detach")
        or (o.startswith("-") and not o.startswith("--") and "d" in o[1:] and len(o) > 2 and "=" not in o)
        for o in opts
    )


@dataclass
class Engine:
    #: full environment for docker / docker compose subprocesses
    env: dict[str, str] = field(repr=False)
    #: "docker" or "podman" (the server behind the Docker API)
    kind: str = "docker"
    #: True when this is the podman engine bootstrap.sh started for the tests:
    #: only then are `system prune` and similar global clean-ups safe.
    private: bool = False

    def docker(
        self,
        *args: str,
        check: bool = True,
        timeout: float | None = DEFAULT_TIMEOUT,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker ARGS...` (text mode, output captured).

        With check=True a non-zero exit raises EngineCommandError whose message
        includes stdout and stderr.
        """
        argv = [str(a) for a in args]
        if self.kind == "podman":
            fixed = self._run_rm_workaround(argv, check=check, timeout=timeout, cwd=cwd, input=input)
            if fixed is not None:
                return fixed
        cmd = ["docker", *argv]
        proc = subprocess.run(
            cmd,
            env=self.env,
            cwd=cwd,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise EngineCommandError(proc.returncode, cmd, proc.stdout, proc.stderr)
        return proc

    def _run_rm_workaround(self, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str] | None:
        """podman < 4.6 behind the docker CLI: `docker run --rm` and `docker
        compose run --rm` always exit 0, whatever the container's exit code
        (podman#18889: the compat wait?condition=removed loses it). Run
        without --rm instead, so the exit code comes through, then remove
        the container. Returns None when argv is not such a command."""
        if argv[:1] == ["run"]:
            end = _first_positional(argv, 1, _RUN_BOOL)
            opts, rest = argv[1:end], argv[end:]
            if "--rm" not in opts or _is_detached(opts):
                return None
            fd, cidfile = tempfile.mkstemp(prefix="tmpl-cid-")
            os.close(fd)
            os.unlink(cidfile)  # docker refuses an existing cidfile
            new = ["run", "--cidfile", cidfile, *[o for o in opts if o != "--rm"], *rest]
            try:
                return self.docker(*new, **kw)
            finally:
                try:
                    cid = Path(cidfile).read_text().strip()
                    os.unlink(cidfile)
                except OSError:
                    cid = ""
                if cid:
                    self.docker("rm", "-f", "-v", cid, check=False, timeout=120)
        if argv[:1] == ["compose"]:
            sub = _first_positional(argv, 1, _COMPOSE_BOOL)
            if sub >= len(argv) or argv[sub] != "run":
                return None
            end = _first_positional(argv, sub + 1, _COMPOSE_RUN_BOOL)
            opts = argv[sub + 1 : end]
            if "--rm" not in opts or _is_detached(opts):
                return None
            opts = [o for o in opts if o != "--rm"]
            name = None
            for i, o in enumerate(opts):
                if o == "--name" and i + 1 < len(opts):
                    name = opts[i + 1]
                elif o.startswith("--name="):
                    name = o.split("=", 1)[1]
            if name is None:
                name = "tmpl-run-" + uuid.uuid4().hex[:12]
                opts = ["--name", name, *opts]
            new = [*argv[: sub + 1], *opts, *argv[end:]]
            try:
                return self.docker(*new, **kw)
            finally:
                self.docker("rm", "-f", "-v", name, check=False, timeout=120)
        return None

    def compose(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """`docker compose ARGS...`; same keywords as docker()."""
        return self.docker("compose", *args, **kwargs)

    def has_image(self, tag: str) -> bool:
        return self.docker("image", "inspect", tag, check=False, timeout=60).returncode == 0

    def inspect(self, name: str) -> dict[str, Any]:
        """`docker inspect NAME` as a dict (container, image, network...)."""
        return json.loads(self.docker("inspect", name, timeout=60).stdout)[0]

    def describe(self) -> str:
        host = self.env.get("DOCKER_HOST", "(default socket)")
        ver = self.docker("version", "--format", "{{.Server.Version}}", check=False, timeout=30)
        return (
            f"Engine(kind={self.kind!r}, private={self.private}, DOCKER_HOST={host}, "
            f"server={ver.stdout.strip() or '?'})"
        )


def _docker_info(env: dict[str, str]) -> tuple[bool, str]:
    if shutil.which("docker", path=env.get("PATH")) is None:
        return False, "the docker CLI is not installed"
    try:
        proc = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return False, "`docker info` timed out"
    if proc.returncode == 0:
        return True, proc.stdout.strip()
    return False, "`docker info` failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]


def _server_kind(env: dict[str, str]) -> str:
    proc = subprocess.run(
        ["docker", "version", "--format", "{{range .Server.Components}}{{.Name}};{{end}}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    return "podman" if "podman" in proc.stdout.lower() else "docker"


def _podman_env(env: dict[str, str]) -> dict[str, str]:
    # the classic builder: BuildKit (buildx / bake) cannot talk to podman
    env.setdefault("DOCKER_BUILDKIT", "0")
    env.setdefault("COMPOSE_BAKE", "false")
    return env


def _run_bootstrap() -> dict[str, str]:
    """Run bootstrap.sh; return the variables of its `export K=V` lines."""
    if os.geteuid() == 0:
        cmd = ["bash", str(BOOTSTRAP)]
    elif shutil.which("sudo"):
        cmd = ["sudo", "-n", "-E", "bash", str(BOOTSTRAP)]  # never prompt
    else:
        raise EngineUnavailable(f"the podman engine needs root: run `sudo {BOOTSTRAP}` once, as root")
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=BOOTSTRAP_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise EngineUnavailable(f"{BOOTSTRAP} timed out after {BOOTSTRAP_TIMEOUT}s") from exc
    if proc.returncode != 0:
        raise EngineUnavailable(
            f"{BOOTSTRAP} failed (exit {proc.returncode}):\n{_tail(proc.stderr)}\n{_tail(proc.stdout)}"
        )
    exports: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export ") :].partition("=")
            exports[key.strip()] = value.strip()
    if "DOCKER_HOST" not in exports:
        raise EngineUnavailable(f"{BOOTSTRAP} printed no DOCKER_HOST:\n{_tail(proc.stdout)}")
    return exports


def find_engine() -> Engine:
    """Return a working engine, bringing up the private podman one if needed."""
    env = dict(os.environ)
    ok, detail = _docker_info(env)
    if ok:
        kind = _server_kind(env)
        private = env.get("DOCKER_HOST") == PRIVATE_DOCKER_HOST
        if kind == "podman":
            env = _podman_env(env)
        if private:
            env.setdefault("CONTAINERS_CONF", "/var/lib/tmpl-engine/containers.conf")
            env.setdefault("CONTAINERS_STORAGE_CONF", "/var/lib/tmpl-engine/storage.conf")
        return Engine(env=env, kind=kind, private=private)

    if shutil.which("podman") or os.environ.get("CI") == "true":
        env.update(_run_bootstrap())
        env = _podman_env(env)
        ok2, detail2 = _docker_info(env)
        if not ok2:
            raise EngineUnavailable(f"bootstrap.sh ran but the engine does not answer: {detail2}")
        return Engine(env=env, kind="podman", private=True)

    script = BOOTSTRAP.relative_to(Path.cwd()) if BOOTSTRAP.is_relative_to(Path.cwd()) else BOOTSTRAP
    raise EngineUnavailable(
        f"no container engine: {detail}, and podman is not installed. "
        f"Get one with `sudo {script}` "
        "(installs and starts a private podman engine; the tests then find it), "
        "or run the tests with CI=true to let them bootstrap it, "
        "or start a Docker daemon / set DOCKER_HOST."
    )


if __name__ == "__main__":
    try:
        engine = find_engine()
    except EngineUnavailable as exc:
        raise SystemExit(f"EngineUnavailable: {exc}") from None
    print(engine.describe())
    for key in ("DOCKER_HOST", "DOCKER_BUILDKIT", "COMPOSE_BAKE", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"):
        if key in engine.env:
            print(f"export {key}={engine.env[key]}")
