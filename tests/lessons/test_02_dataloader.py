"""02_dataloader.py: batch shapes, drop_last, shuffled epochs as TensorBoard image grids, --max-steps, clean errors."""

from conftest import assert_clean_error, assert_ok, read_tensorboard, run_in_process

SCRIPT = "02_dataloader.py"


def image_grids(logdir) -> dict[str, list]:
    """Image tag -> its events in step order. add_images draws a batch as a grid 8 images wide."""
    (accumulator,) = read_tensorboard(logdir).values()
    return {tag: accumulator.Images(tag) for tag in accumulator.Tags()["images"]}


def test_fake_data_drops_the_short_batch(tmp_path):
    logdir = tmp_path / "tb"
    result = run_in_process(SCRIPT, "--fake-data", "--logdir", logdir, cwd=tmp_path)
    assert_ok(result)
    out = result.stdout
    assert "test_data[0]: img.shape torch.Size([3, 32, 32])" in out
    # FakeData's test split has 200 images: 3 full batches of 64, the last 8 images dropped.
    assert "len(test_loader) = 3 batches" in out
    assert out.count("imgs [64, 3, 32, 32], targets [64]") == 6  # 3 batches in each of 2 epochs
    grids = image_grids(logdir)
    assert sorted(grids) == ["Epoch: 0", "Epoch: 1"]
    for events in grids.values():
        # 64 images of 32x32, 8 to a row: a 256x256 grid at steps 0, 1, 2
        assert [(event.step, event.width, event.height) for event in events] == [(s, 256, 256) for s in range(3)]
    # shuffle=True: the same step holds different images in the two epochs.
    assert grids["Epoch: 0"][0].encoded_image_string != grids["Epoch: 1"][0].encoded_image_string


def test_no_drop_last_keeps_the_short_batch_and_max_steps_caps_the_log(workdir):
    logdir = workdir / "tb"
    args = ("--fake-data", "--logdir", logdir, "--batch-size", "32", "--no-drop-last", "--epochs", "1")
    result = run_in_process(SCRIPT, *args, "--max-steps", "10", cwd=workdir)
    assert_ok(result)
    # 200 = 6 * 32 + 8: seven batches, the last one holds 8 images.
    assert "len(test_loader) = 7 batches" in result.stdout
    assert "batch 7/7: imgs [8, 3, 32, 32], targets [8]" in result.stdout
    (events,) = image_grids(logdir).values()
    sizes = [(event.step, event.width, event.height) for event in events]
    assert sizes == [(s, 256, 128) for s in range(6)] + [(6, 256, 32)]  # 32 images: 4 rows; 8 images: 1 row

    result = run_in_process(SCRIPT, *args, "--max-steps", "2", "--logdir", workdir / "tb2", cwd=workdir)
    assert_ok(result)
    assert [event.step for event in image_grids(workdir / "tb2")["Epoch: 0"]] == [0, 1]


def test_bad_values_are_clean_errors(workdir):
    result = run_in_process(SCRIPT, "--fake-data", "--batch-size", "500", "--logdir", workdir / "tb", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "--batch-size 500", "--no-drop-last")
    result = run_in_process(SCRIPT, "--fake-data", "--batch-size", "0", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "--batch-size", "at least 1")
    result = run_in_process(SCRIPT, "--fake-data", "--logdir", __file__, cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "--logdir")


def test_missing_data_is_one_line_naming_the_ways_out(workdir):
    result = run_in_process(SCRIPT, "--image-folder", workdir / "nowhere", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "nowhere", "--fake-data")
    # A --data-root that cannot be made goes the way of a failed download, with or without a network.
    (workdir / "a_file").write_text("not a folder")
    result = run_in_process(SCRIPT, "--data-root", workdir / "a_file", cwd=workdir)
    assert result.returncode == 2
    assert_clean_error(result, "cifar-10-python.tar.gz", "--image-folder DIR", "--fake-data")
