"""05_conv.py: the notes' F.conv2d numbers, nn.Conv2d shapes, TensorBoard images."""

import re

import pytest
from conftest import assert_clean_error, assert_ok, read_tensorboard, run_in_process

SCRIPT = "05_conv.py"
# The notes' printed outputs for the 5x5 input and the 3x3 kernel.
STRIDE_1 = [[10, 12, 12], [18, 16, 16], [13, 9, 3]]
STRIDE_2 = [[10, 12], [13, 3]]
PADDING_1 = [
    [1, 3, 4, 10, 8],
    [5, 10, 12, 12, 6],
    [7, 18, 16, 16, 8],
    [11, 13, 9, 3, 4],
    [14, 13, 9, 7, 4],
]


@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    """On FakeData, three batches (test_standalone runs the lesson copied alone)."""
    tmp_path = tmp_path_factory.mktemp("copied")
    logdir = tmp_path / "tb"
    result = run_in_process(SCRIPT, "--fake-data", "--logdir", logdir, "--max-steps", "3", cwd=tmp_path)
    assert_ok(result)
    return result, logdir


def printed_tensor(stdout: str, call: str) -> list[list[int]]:
    """The numbers of the tensor printed under the line `call:`, as rows."""
    match = re.search(re.escape(call) + r":\n(tensor\(.*?\]\]\]\]\))", stdout, re.DOTALL)
    assert match, f"no tensor printed after {call!r}:\n{stdout}"
    rows = re.findall(r"\[([-\d,\s]+)\]", match.group(1))
    return [[int(number) for number in row.split(",")] for row in rows]


def test_prints_the_notes_convolution_results(conv_run):
    result, _ = conv_run
    assert printed_tensor(result.stdout, "F.conv2d(input, kernel, stride=1)") == STRIDE_1
    assert printed_tensor(result.stdout, "F.conv2d(input, kernel, stride=2)") == STRIDE_2
    assert printed_tensor(result.stdout, "F.conv2d(input, kernel, stride=1, padding=1)") == PADDING_1
    assert "torch.Size([1, 1, 5, 5])" in result.stdout and "torch.Size([1, 1, 3, 3])" in result.stdout


def test_conv_layer_shapes(conv_run):
    result, _ = conv_run
    assert "Conv2d(3, 6, kernel_size=(3, 3), stride=(1, 1))" in result.stdout
    shapes = re.search(
        r"imgs.shape (torch.Size\(.*?\)) -> output.shape (torch.Size\(.*?\)) -> reshaped (.*)", result.stdout
    )
    assert shapes.groups() == (
        "torch.Size([64, 3, 32, 32])",
        "torch.Size([64, 6, 30, 30])",
        "torch.Size([128, 3, 30, 30])",
    )


def test_tensorboard_images_capped_by_max_steps(conv_run):
    result, logdir = conv_run
    (accumulator,) = read_tensorboard(logdir).values()
    assert set(accumulator.Tags()["images"]) == {"input", "output"}
    # add_images draws a batch 8 images to a row: 64 of 32x32 -> 256x256; 128 of 30x30 -> 240 wide, 480 high
    assert [(e.step, e.width, e.height) for e in accumulator.Images("input")] == [(s, 256, 256) for s in range(3)]
    assert [(e.step, e.width, e.height) for e in accumulator.Images("output")] == [(s, 240, 480) for s in range(3)]
    assert "logged 3 batches" in result.stdout


def test_help_and_bad_input(workdir):
    result = run_in_process(SCRIPT, "--help", cwd=workdir)
    assert_ok(result)
    assert "卷积" in result.stdout and "--max-steps" in result.stdout and "--fake-data" in result.stdout
    result = run_in_process(SCRIPT, "--max-steps", "0", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "--max-steps", "at least 1")
    result = run_in_process(SCRIPT, "--image-folder", workdir / "nowhere", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "nowhere", "--fake-data")
