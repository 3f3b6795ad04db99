"""03_tensorboard.py: scalars and an HWC image in the event file, the printed command, a real server."""

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
from conftest import assert_clean_error, assert_ok, read_tensorboard, run_in_process, script_env
from PIL import Image

SCRIPT = "03_tensorboard.py"


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One run with the defaults (a drawn picture), shared by the tests (test_standalone runs it copied alone)."""
    tmp_path = tmp_path_factory.mktemp("copied")
    logdir = tmp_path / "tb"
    result = run_in_process(SCRIPT, "--logdir", logdir, cwd=tmp_path)
    assert_ok(result)
    return result, logdir


def only_run(logdir):
    runs = read_tensorboard(logdir)
    assert list(runs) == ["."], runs
    return runs["."]


def test_scalars_read_back(default_run):
    _, logdir = default_run
    accumulator = only_run(logdir)
    squares = {event.step: event.value for event in accumulator.Scalars("y=x^2")}
    assert squares == {x: float(x * x) for x in range(100)}
    doubles = {event.step: event.value for event in accumulator.Scalars("y=2x")}
    assert doubles == {x: float(2 * x) for x in range(100)}


def test_drawn_image_logged_as_hwc(default_run):
    result, logdir = default_run
    assert "(240, 320, 3) uint8 (H, W, C)" in result.stdout
    (event,) = only_run(logdir).Images("train")
    assert (event.step, event.width, event.height) == (1, 320, 240)
    logged = np.array(Image.open(io.BytesIO(event.encoded_image_string)))
    assert tuple(logged[120, 192]) == (250, 220, 40)  # the yellow disc's centre: colours in the right channels


def test_prints_the_command_and_busy_port_help(default_run):
    result, logdir = default_run
    assert f"tensorboard --logdir {logdir} --port 6007" in result.stdout
    assert "lsof -i :6007" in result.stdout
    assert "netstat -ano | findstr 6007" in result.stdout and "tasklist" in result.stdout


@pytest.mark.parametrize("mode", ["RGBA", "L"])
def test_given_image_keeps_its_pixels(workdir, mode):
    # 40 wide, 30 high, with an alpha channel or in grayscale: it must arrive as a 30x40 RGB picture.
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    if mode == "L":
        rgb[..., 1] = rgb[..., 2] = rgb[..., 0]
    Image.fromarray(rgb).convert(mode).save(workdir / "picture.png")
    logdir = workdir / "tb"
    args = ("--image", "picture.png", "--image-step", "2", "--steps", "3", "--logdir", logdir)
    result = run_in_process(SCRIPT, *args, cwd=workdir)
    assert_ok(result)
    assert "(30, 40, 3) uint8 (H, W, C)" in result.stdout
    accumulator = only_run(logdir)
    (event,) = accumulator.Images("train")
    assert (event.step, event.width, event.height) == (2, 40, 30)
    logged = np.array(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))
    assert np.array_equal(logged, rgb)
    assert [(e.step, e.value) for e in accumulator.Scalars("y=x^2")] == [(0, 0.0), (1, 1.0), (2, 4.0)]


def test_bad_image_paths_are_clean_errors(workdir):
    result = run_in_process(SCRIPT, "--image", "no_such.jpg", "--logdir", workdir / "tb", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "no_such.jpg", "does not exist")
    result = run_in_process(SCRIPT, "--image", workdir, "--logdir", workdir / "tb", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "is a folder")
    (workdir / "notes.jpg").write_text("this is text, not a picture")
    result = run_in_process(SCRIPT, "--image", "notes.jpg", "--logdir", workdir / "tb", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "notes.jpg", "cannot read image")
    assert not (workdir / "tb").exists()  # nothing written before the picture is read


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
