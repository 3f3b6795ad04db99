"""03_tensorboard.py: scalars and an HWC image in the event file, the printed command, a real server."""

import importlib.util
import io
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from conftest import ROOT, assert_clean_error, assert_ok, read_tensorboard, run_in_process, run_script, script_env
from PIL import Image

from common import UserError

SCRIPT = "03_tensorboard.py"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One run with the defaults (a drawn picture), shared by the tests that only read its logs."""
    workdir = tmp_path_factory.mktemp("work")
    logdir = workdir / "tb"
    result = run_script(SCRIPT, "--logdir", logdir, cwd=workdir)
    assert_ok(result)
    return result, logdir


def only_run(logdir):
    runs = read_tensorboard(logdir)
    assert list(runs) == ["."], runs
    return runs["."]


def test_scalars_read_back(default_run):
    result, logdir = default_run
    accumulator = only_run(logdir)
    squares = {event.step: event.value for event in accumulator.Scalars("y=x^2")}
    assert len(squares) == 100 and sorted(squares) == list(range(100))
    assert squares[10] == 100.0 and squares[99] == 9801.0
    assert {event.step: event.value for event in accumulator.Scalars("y=2x")}[10] == 20.0
    assert "'y=x^2', 'y=2x' for x = 0..99 (y=x^2 ends at 9801)" in result.stdout


def test_drawn_image_logged_as_hwc(default_run):
    result, logdir = default_run
    assert "image (drawn with numpy): type ndarray, shape (240, 320, 3) (H, W, C), uint8" in result.stdout
    (event,) = only_run(logdir).Images("image")
    assert (event.step, event.width, event.height) == (1, 320, 240)


def test_prints_the_command_and_busy_port_help(default_run):
    result, logdir = default_run
    assert f"tensorboard --logdir {logdir} --port 6007" in result.stdout
    assert "lsof -i :6007" in result.stdout
    assert "netstat -ano | findstr 6007" in result.stdout and "tasklist" in result.stdout


def test_given_image_keeps_its_pixels(workdir):
    # 40 wide, 30 high, with an alpha channel: it must arrive as a 30x40 RGB picture.
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("RGBA").save(workdir / "picture.png")
    logdir = workdir / "tb"
    result = run_in_process(SCRIPT, "--image", "picture.png", "--image-step", "2", "--logdir", logdir, cwd=workdir)
    assert_ok(result)
    assert "image (picture.png): type ndarray, shape (30, 40, 3) (H, W, C), uint8" in result.stdout
    (event,) = only_run(logdir).Images("image")
    assert (event.step, event.width, event.height) == (2, 40, 30)
    logged = np.array(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))
    assert np.array_equal(logged, rgb)


def test_missing_image_is_an_error_naming_it(workdir):
    # In this process (quicker than a new interpreter): the script's read_image raises UserError,
    # which run_main prints as one line, as the next test shows for an unreadable file.
    spec = importlib.util.spec_from_file_location("tensorboard_script", ROOT / SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(UserError, match="--image .*no_such.jpg is not a file"):
        module.read_image(str(workdir / "no_such.jpg"))
    with pytest.raises(UserError, match="is not a file"):
        module.read_image(str(workdir))


def test_unreadable_image_is_a_clean_error(workdir):
    (workdir / "notes.jpg").write_text("this is text, not a picture")
    result = run_in_process(SCRIPT, "--image", "notes.jpg", "--logdir", workdir / "tb", cwd=workdir)
    assert_clean_error(result, "notes.jpg", "cannot read image")


# --------------------------------------------------------------------------- the real server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_tensorboard_server_serves_the_scalars(default_run, tmp_path):
    _, logdir = default_run
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "tensorboard.log"
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--host", "127.0.0.1"]
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=script_env(tmp_path)
        )
    try:
        # The server needs a few seconds to start and then to read the event file; poll both.
        points, deadline = [], time.monotonic() + 60
        while len(points) < 100 and time.monotonic() < deadline:
            assert server.poll() is None, f"tensorboard exited early:\n{log_path.read_text()}"
            try:
                if "." in get_json(f"{base}/data/runs"):
                    points = get_json(f"{base}/data/plugin/scalars/scalars?run=.&tag=y%3Dx%5E2")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet
            if len(points) < 100:
                time.sleep(0.5)
        assert len(points) == 100, f"got {len(points)} points\n{log_path.read_text()}"
        # Each point is [wall_time, step, value].
        values = {step: value for _, step, value in points}
        assert values[10] == 100.0 and values[99] == 9801.0
        assert values == {x: float(x * x) for x in range(100)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
