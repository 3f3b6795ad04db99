"""02_dataloader.py: sample and batch shapes, drop_last, per-epoch image tags, --max-steps."""

from conftest import assert_clean_error, assert_ok, read_tensorboard, run_in_process, run_script

SCRIPT = "02_dataloader.py"


def image_steps(logdir) -> dict[str, list[int]]:
    """Image tag -> the steps written under it."""
    steps = {}
    for accumulator in read_tensorboard(logdir).values():
        for tag in accumulator.Tags()["images"]:
            steps.setdefault(tag, []).extend(event.step for event in accumulator.Images(tag))
    return steps


def test_defaults_give_64_image_batches_and_drop_the_last(workdir):
    logdir = workdir / "tb"
    result = run_script(SCRIPT, "--fake-data", "--logdir", logdir, cwd=workdir)
    assert_ok(result)
    out = result.stdout
    assert "img.shape torch.Size([3, 32, 32])" in out
    assert "one batch: imgs.shape torch.Size([64, 3, 32, 32]), targets.shape torch.Size([64])" in out
    # The fake test set has 200 images: 3 full batches of 64, the last 8 images dropped.
    assert "200 images, batch_size 64, drop_last True: len(test_loader) = 3 batches" in out
    assert "epoch 0: 3 batches, the last one (64, 3, 32, 32); 3 written to TensorBoard as 'Epoch: 0'" in out
    assert "epoch 1: 3 batches" in out
    assert f"tensorboard --logdir {logdir}" in out
    assert image_steps(logdir) == {"Epoch: 0": [0, 1, 2], "Epoch: 1": [0, 1, 2]}


def test_no_drop_last_keeps_the_short_batch_and_max_steps_caps_the_log(workdir):
    logdir = workdir / "tb"
    args = ("--fake-data", "--logdir", logdir, "--batch-size", "32", "--no-drop-last", "--max-steps", "2")
    result = run_in_process(SCRIPT, *args, "--epochs", "1", cwd=workdir)
    assert_ok(result)
    # 200 = 6 * 32 + 8: seven batches, the last one holds 8 images.
    assert "drop_last False: len(test_loader) = 7 batches" in result.stdout
    assert "epoch 0: 7 batches, the last one (8, 3, 32, 32); 2 written to TensorBoard" in result.stdout
    assert "epoch 1" not in result.stdout
    assert image_steps(logdir) == {"Epoch: 0": [0, 1]}


def test_batch_larger_than_the_data_with_drop_last_is_a_clean_error(workdir):
    result = run_in_process(SCRIPT, "--fake-data", "--batch-size", "500", "--logdir", workdir / "tb", cwd=workdir)
    assert_clean_error(result, "--batch-size 500", "--no-drop-last")
