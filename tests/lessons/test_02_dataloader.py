"""02_dataloader.py: the notes' DataLoader (batch_size=64, shuffle=True, drop_last=True), two epochs in TensorBoard."""

from conftest import assert_ok, read_tensorboard, run_in_process

SCRIPT = "02_dataloader.py"


def test_fake_data_gives_three_full_shuffled_batches_an_epoch(workdir):
    result = run_in_process(SCRIPT, "--fake-data", cwd=workdir)
    assert_ok(result)
    assert "torch.Size([3, 32, 32])" in result.stdout  # test_data[0]
    # 200 images: 3 batches of 64, drop_last=True leaves out the last 8.
    assert "3 batches" in result.stdout
    assert result.stdout.count("torch.Size([64, 3, 32, 32])") == 2  # the last batch of each epoch
    (accumulator,) = read_tensorboard(workdir / "logs").values()  # the notes' SummaryWriter('./logs')
    grids = {tag: accumulator.Images(tag) for tag in accumulator.Tags()["images"]}
    assert sorted(grids) == ["Epoch: 0", "Epoch: 1"]
    for events in grids.values():
        # add_images draws the 64 images of 32x32 as a grid 8 wide: 256x256, one per step
        assert [(event.step, event.width, event.height) for event in events] == [(s, 256, 256) for s in range(3)]
    # shuffle=True: step 0 holds other images in the second epoch.
    assert grids["Epoch: 0"][0].encoded_image_string != grids["Epoch: 1"][0].encoded_image_string
