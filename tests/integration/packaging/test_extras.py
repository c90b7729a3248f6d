"""Each extra is enough for what it promises, installed the way users install it: the
project's wheel into a clean virtual environment, with that extra alone.

    (none)            import shipwise; an offline client evaluates; ``shipwise`` names
                      the server extra instead of a traceback
    openfeature       the OpenFeature provider over an offline client
    server            ``shipwise serve`` on SQLite answers /health; ``shipwise simulate``
                      runs; a PostgreSQL URL says which extra brings the driver (exit 2)
    server,postgres   ``shipwise serve --database-url`` on PostgreSQL answers /health

One wheel is built from this checkout for the module, and every environment installs it
(``pip --python``, so the environments need no pip of their own) with its dependencies
from the package index pip is configured with (PyPI in CI); pip's cache makes every run
after the first quick. The environments are built lazily, once per module, so running
one test builds only what it needs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[3]
INSTALL_SECONDS = 900  # a cold pip cache downloads the server's dependencies
STARTUP_SECONDS = 60

DOCUMENT = {
    "format": "shipwise-snapshot",
    "version": 1,
    "flags": [{"key": "new-checkout", "enabled": True}, {"key": "search", "enabled": False}],
}


def _environment() -> dict[str, str]:
    """The user's environment without anything that would reach this checkout or a
    Shipwise configuration: each virtual environment must stand on its own."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("SHIPWISE_")}


def _run(
    command: list[str], cwd: Path, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out)]
    _run([*pip_wheel, str(ROOT)], cwd=out, timeout=INSTALL_SECONDS)
    [built] = out.glob("shipwise-*.whl")
    return built


class Environments:
    """Clean virtual environments with the wheel and some extras, made on first use."""

    def __init__(self, wheel: Path, base: Path) -> None:
        self._wheel = wheel
        self._base = base
        self._made: dict[str, Path] = {}

    def with_extras(self, extras: str) -> Path:
        """The ``bin`` directory of an environment with the wheel and ``extras``."""
        if extras not in self._made:
            home = self._base / (extras.replace(",", "-") or "none")
            venv.create(home, with_pip=False, clear=True)
            requirement = f"{self._wheel}[{extras}]" if extras else str(self._wheel)
            python = home / "bin" / "python"
            install = [sys.executable, "-m", "pip", "--python", str(python), "install"]
            # --no-compile: half the install time; the few modules a test imports compile then
            quiet = ["--quiet", "--no-compile"]
            _run([*install, *quiet, requirement], cwd=self._base, timeout=INSTALL_SECONDS)
            self._made[extras] = home / "bin"
        return self._made[extras]


@pytest.fixture(scope="module")
def environments(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Environments:
    return Environments(wheel, tmp_path_factory.mktemp("venvs"))


def _python(bin_dir: Path, code: str, cwd: Path) -> dict[str, object]:
    """Run ``code`` in the environment; it prints one JSON object as its last line."""
    done = _run([str(bin_dir / "python"), "-c", code], cwd=cwd)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _installed_from(bin_dir: Path, module_file: object) -> bool:
    return Path(str(module_file)).is_relative_to(bin_dir.parent)


def _unimportable(
    bin_dir: Path, cwd: Path, under: tuple[str, ...], but: tuple[str, ...]
) -> dict[str, object]:
    """Modules of the installed package under ``under`` (prefixes) that fail to import,
    and why; ``but`` lists modules another extra serves."""
    code = f"""
import importlib, json, pkgutil, shipwise
failed = {{}}
for module in pkgutil.walk_packages(shipwise.__path__, "shipwise."):
    name = module.name
    if not name.startswith({under!r}) or name in {but!r} or name.endswith(".__main__"):
        continue
    try:
        importlib.import_module(name)
    except ImportError as error:
        failed[name] = f"{{type(error).__name__}}: {{error}}"
print(json.dumps(failed))
"""
    return _python(bin_dir, code, cwd)


@contextmanager
def _serving(bin_dir: Path, cwd: Path, *options: str) -> Iterator[str]:
    """``shipwise serve`` from the environment, until it answers /health; then SIGTERM."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(bin_dir / "shipwise"), "serve", "--port", str(port), *options],
            cwd=cwd,
            env=_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            assert process.poll() is None, f"serve exited {process.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


# -- no extras: the SDK -------------------------------------------------------------------

SDK_PROBE = f"""
import importlib.util, json, sys
import shipwise
from shipwise import Client
client = Client.offline({DOCUMENT!r})
print(json.dumps({{
    "file": shipwise.__file__,
    "on": client.is_enabled("new-checkout", {{"userId": "42"}}),
    "off": client.is_enabled("search"),
    "reason": client.explain("new-checkout").reason.value,
    "installed": sorted(m for m in ("fastapi", "typer", "rich", "sqlalchemy", "psycopg")
                        if importlib.util.find_spec(m) is not None),
}}))
"""


def test_no_extras__import_shipwise_and_an_offline_client__evaluate_flags(
    environments: Environments, tmp_path: Path
) -> None:
    bin_dir = environments.with_extras("")
    result = _python(bin_dir, SDK_PROBE, tmp_path)
    assert _installed_from(bin_dir, result["file"])
    assert result["installed"] == []  # nothing of the server came along
    assert (result["on"], result["off"], result["reason"]) == (True, False, "no_strategies")


def test_no_extras__every_engine_domain_and_sdk_module__imports(
    environments: Environments, tmp_path: Path
) -> None:
    bin_dir = environments.with_extras("")
    under = ("shipwise.engine", "shipwise.domain", "shipwise.sdk", "shipwise.data")
    assert _unimportable(bin_dir, tmp_path, under, but=("shipwise.sdk.openfeature",)) == {}


def test_no_extras__the_shipwise_command__names_the_server_extra_and_exits_2(
    environments: Environments, tmp_path: Path
) -> None:
    bin_dir = environments.with_extras("")
    done = _run([str(bin_dir / "shipwise"), "--help"], cwd=tmp_path, check=False)
    assert done.returncode == 2, done.stderr
    assert 'pip install "shipwise[server]"' in done.stderr
    assert "Traceback" not in done.stderr


OPENFEATURE_PROBE = f"""
import json
from openfeature import api
from shipwise import Client
from shipwise.sdk.openfeature import ShipwiseProvider
api.set_provider_and_wait(ShipwiseProvider(Client.offline({DOCUMENT!r})))
details = api.get_client().get_boolean_details("new-checkout", False)
print(json.dumps({{"value": details.value, "reason": details.reason}}))
"""


def test_openfeature_extra__the_provider_evaluates_through_openfeature(
    environments: Environments, tmp_path: Path
) -> None:
    bin_dir = environments.with_extras("openfeature")
    result = _python(bin_dir, OPENFEATURE_PROBE, tmp_path)
    assert result == {"value": True, "reason": "STATIC"}


# -- server: SQLite -----------------------------------------------------------------------


def test_server_extra__serve_on_sqlite__answers_health(
    environments: Environments, tmp_path: Path
) -> None:
    bin_dir = environments.with_extras("server")
    with _serving(bin_dir, tmp_path, "--data-dir", str(tmp_path / "data")) as url:
        assert httpx.get(f"{url}/health", timeout=5).json()["status"] == "ok"
    assert (tmp_path / "data" / "shipwise.db").is_file()


def test_server_extra__serve__ships_the_dashboard_templates_and_static_files(
    environments: Environments, tmp_path: Path
) -> None:
    # Templates and static files are package data: a wheel without them would serve
    # the API and fail every page.
    bin_dir = environments.with_extras("server")
    with _serving(bin_dir, tmp_path, "--data-dir", str(tmp_path / "data")) as url:
        page = httpx.get(f"{url}/sign-in", timeout=5)
        css = httpx.get(f"{url}/static/shipwise.css", timeout=5)
        script = httpx.get(f"{url}/static/shipwise.js", timeout=5)
    assert page.status_code == 200, page.text
    assert '<main id="main"' in page.text
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


def test_server_extra__every_module_but_postgresql_and_openfeature__imports(
    environments: Environments, tmp_path: Path
) -> None:
    # Nothing the server or the command imports may come from the dev extra only.
    bin_dir = environments.with_extras("server")
    others = ("shipwise.server.storage.postgres_bus", "shipwise.sdk.openfeature")
    assert _unimportable(bin_dir, tmp_path, ("shipwise",), but=others) == {}


def test_server_extra__simulate__runs_a_scenario(
    environments: Environments, tmp_path: Path
) -> None:
    bin_dir = environments.with_extras("server")
    command = [str(bin_dir / "shipwise"), "simulate", "healthy", "--days", "1", "--json"]
    done = _run(command, cwd=tmp_path, timeout=300)
    [outcome] = json.loads(done.stdout)
    assert outcome["scenario"] == "healthy"


def test_server_extra__postgresql_url__names_the_postgres_extra_and_exits_2(
    environments: Environments, tmp_path: Path
) -> None:
    bin_dir = environments.with_extras("server")
    url = f"postgresql+psycopg://shipwise@127.0.0.1:{free_port()}/shipwise"
    command = [str(bin_dir / "shipwise"), "serve", "--port", str(free_port())]
    done = _run([*command, "--database-url", url], cwd=tmp_path, check=False)
    assert done.returncode == 2, done.stderr
    assert "'psycopg'" in done.stderr
    assert 'pip install "shipwise[server,postgres]"' in done.stderr
    assert "Traceback" not in done.stderr


# -- server and postgres: PostgreSQL --------------------------------------------------------


def test_server_and_postgres_extras__serve_on_postgresql__answers_health(
    environments: Environments, tmp_path: Path, postgres_url: str
) -> None:
    bin_dir = environments.with_extras("server,postgres")
    options = ("--data-dir", str(tmp_path / "data"), "--database-url", postgres_url)
    with _serving(bin_dir, tmp_path, *options) as url:
        assert httpx.get(f"{url}/health", timeout=5).json()["status"] == "ok"
    assert not (tmp_path / "data").exists()  # nothing went to SQLite
