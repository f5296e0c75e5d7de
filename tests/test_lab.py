"""`make lab` serves the notebooks: start JupyterLab headless, list the notebooks through its REST
API, run the first cells of notebook 00 in a kernel the server starts, and shut it all down."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from shared import catalogue

from .conftest import ROOT

pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
websocket = pytest.importorskip("websocket", reason="websocket-client is not installed")

TIMEOUT = 25  # seconds for the server to answer and for each cell to run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, method: str = "GET", body: dict | None = None) -> dict | None:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        text = response.read()
    return json.loads(text) if text else None


def stop(server: subprocess.Popen) -> None:
    """End ``make`` and the JupyterLab it started (their own process group)."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass  # already gone


@pytest.fixture
def lab(tmp_path):
    """JupyterLab started by `make lab` itself, on 127.0.0.1 with a token, from a shell that
    exports MPLBACKEND=Agg (as many servers do). ``-o`` keeps make from reinstalling the venv,
    and BIN points it at this interpreter's JupyterLab."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    port, token = free_port(), secrets.token_hex(16)
    options = [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    command = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.installed",
        "lab",
        f"BIN={Path(sys.executable).parent}",
        f"LAB_ARGS={' '.join(options)}",
    ]
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        MPLBACKEND="Agg",
    )
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    base = f"127.0.0.1:{port}"
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            call(f"http://{base}/api/status?token={token}")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop(server)
                pytest.fail("JupyterLab did not answer:\n" + (tmp_path / "lab.log").read_text())
            time.sleep(0.3)
    yield base, token, tmp_path / "lab.log"
    stop(server)
    log.close()


def execute(channel, code: str) -> tuple[str, list[str], set[str]]:
    """Run ``code`` in the kernel behind ``channel``; (status, printed and displayed text, the
    kinds of data it displayed, such as ``image/png``)."""
    msg_id = uuid.uuid4().hex
    channel.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": True},
                "channel": "shell",
            }
        )
    )
    texts, kinds, status, idle = [], set(), None, False
    while status is None or not idle:  # output may come after the reply: wait for idle too
        message = json.loads(channel.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            texts.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            texts.append(content["data"].get("text/plain", ""))
            kinds |= set(content["data"])
        elif kind == "error":
            texts.append("\n".join(content["traceback"]))
        elif kind == "execute_reply":
            status = content["status"]
        elif kind == "status":
            idle = content["execution_state"] == "idle"
    return status, texts, kinds


FIGURE = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"


@pytest.mark.kernel
@pytest.mark.slow
def test_lab_serves_the_notebooks_runs_notebook_00_and_shows_figures(lab):
    """Also with MPLBACKEND=Agg exported: a figure is an image in the notebook, not text."""
    base, token, log = lab
    listing = call(f"http://{base}/api/contents/?content=1&token={token}")
    names = {item["name"] for item in listing["content"] if item["type"] == "notebook"}
    assert {nb.file_name for nb in catalogue.NOTEBOOKS} <= names

    first = catalogue.NOTEBOOKS[0].file_name
    notebook = call(f"http://{base}/api/contents/{first}?token={token}")["content"]
    cells = [c["source"] for c in notebook["cells"] if c["cell_type"] == "code"][:2]

    kernel = call(f"http://{base}/api/kernels?token={token}", "POST", {"name": "python3"})
    channel = websocket.create_connection(
        f"ws://{base}/api/kernels/{kernel['id']}/channels?token={token}", timeout=TIMEOUT
    )
    try:
        outputs = []
        for code in cells:  # the setup cell, then the imports of `shared`
            status, texts, _ = execute(channel, code)
            assert status == "ok", "".join(texts)
            outputs.append("".join(texts))
        assert outputs[0].startswith("Python 3."), outputs[0]  # the setup cell's version report
        status, texts, _ = execute(channel, "import shared; print(shared.config.mode())")
        assert (status, "".join(texts).strip()) == ("ok", "full")
        status, texts, kinds = execute(channel, FIGURE)
        assert status == "ok" and "image/png" in kinds, f"no figure shown: {texts}"
    finally:
        channel.close()
        call(f"http://{base}/api/kernels/{kernel['id']}?token={token}", "DELETE")
    assert "MPLBACKEND=Agg is unset for JupyterLab: figures show inline." in log.read_text()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_says_so_and_starts_as_root():
    planned = subprocess.run(
        ["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    assert ("jupyter lab --allow-root notebooks" in planned) == as_root
    assert planned.count("Running as root") == int(as_root)
