"""完整的模型训练套路 / The full training routine: train the notes' MyModel on CIFAR-10.

The notes' recipe is the default: MyModel, CrossEntropyLoss, SGD lr 0.01, batch 64, 20 epochs,
ToTensor only. Each epoch trains, then tests; TensorBoard logs and checkpoints are written as it goes.

    python 10_train_cifar10.py                                # the notes' recipe (downloads CIFAR-10)
    python 10_train_cifar10.py --image-folder DIR             # offline: DIR/train/<class>/*.png, DIR/test/...
    python 10_train_cifar10.py --fake-data --epochs 2         # a quick try, no data needed
    python 10_train_cifar10.py --recipe fast                  # a wider FastNet + every switch: ~89%, 10 epochs
    python 10_train_cifar10.py --model mymodel-bn --augment   # or one switch at a time (README)
    python 10_train_cifar10.py --resume checkpoints/<run-name>/last.pt
    python 10_train_cifar10.py --evaluate checkpoints/<run-name>/best.pt
    torchrun --nproc_per_node=2 10_train_cifar10.py ...       # several processes (DDP)
    tensorboard --logdir logs/train

Fast without changing the math: each split is decoded once into one uint8 tensor (N, 3, 32, 32) kept
on the training device; batches are taken from it by index and turned into floats there (x / 255 is
exactly ToTensor). The machinery (data cache, recipes, checkpoints, torchrun) is in training/.
"""

import math
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from training import distributed
from training.augment import alternating_flips, augment_images, epoch_batches, epoch_generator
from training.averaging import WeightAverage
from training.checkpoints import (
    CtrlC,
    EpochRecord,
    RunProgress,
    check_output_folder,
    restore_run,
    resume_command,
    run_folders,
    save_checkpoint,
)
from training.data import cifar10_tensors, class_names, to_model_input
from training.device import amp_note, autocast, maybe_compile, pick_device
from training.errors import UserError, run_main
from training.evaluation import evaluate, evaluate_checkpoint, predict
from training.models import MODELS, FastNet, dirac_init
from training.optimizer import freeze_batchnorm_scales, make_optimizer, set_learning_rates
from training.report import (
    NoWriter,
    Output,
    ProgressLine,
    add_graph,
    labelled_predictions,
    per_class_table,
    write_json,
)
from training.settings import describe, lr_jump_note, parse_settings, plural, resume_changes, tta_views


def main(argv=None):
    # 设置 / settings: the notes' defaults < --recipe < the checkpoint's own (--resume) < flags given now
    args, checkpoint = parse_settings(argv, __doc__)
    if args.evaluate:  # --evaluate CHECKPOINT: one test pass, no training
        return evaluate_checkpoint(args, checkpoint)
    with distributed.processes(args.device) as (rank, world):
        distributed.check_batch_size(args.batch_size, world)
        # Training on a GPU, the course's two ways: `model = model.cuda()` (and imgs.cuda(), targets.cuda(),
        # loss_fn.cuda()) guarded by `if torch.cuda.is_available():`, or, as here, one
        # `device = torch.device("cuda" if torch.cuda.is_available() else "cpu")` and `.to(device)` on the
        # model and on every batch. Forget one and torch stops with "Expected all tensors to be on the
        # same device": move the model and each batch (the loss has no weights of its own to move).
        device = pick_device(args.device, rank, world)
        say = Output(quiet=rank > 0)  # print, flushed; a closed pipe (| head) stops the run like Ctrl-C
        log_dir, checkpoint_dir = run_folders(args, check=rank == 0)  # LOGDIR/<run-name>, CHECKPOINT_DIR/<run-name>

        # 准备数据集 / the data: each split as one uint8 tensor on the training device
        started = time.perf_counter()
        train_images, train_labels = (t.to(device) for t in cifar10_tensors(args, train=True))
        test_images, test_labels = (t.to(device) for t in cifar10_tensors(args, train=False))
        classes = class_names(args)  # CIFAR-10's, or an image folder's own class folders
        say(
            f"device: {device}{f' x {world} processes' if world > 1 else ''}; data: {len(train_labels)} train / "
            f"{len(test_labels)} test images ({time.perf_counter() - started:.1f}s to load)"
        )
        if note := amp_note(args.amp, device):
            say(note)
        if args.recipe == "gpu" and device.type == "cpu":
            say("note: --recipe gpu is sized for a GPU; on a CPU, --recipe fast reaches about the same accuracy sooner")

        # 搭建神经网络, 损失函数, 优化器 / the model, the loss function, the optimizer
        torch.manual_seed(args.seed)
        model = MODELS[args.model]().to(device, memory_format=torch.channels_last)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
        if args.bn_bias_lr:  # BatchNorm's scales stay at 1; make_optimizer gives its biases --bn-bias-lr x --lr
            freeze_batchnorm_scales(model)
        optim = make_optimizer(model, args)  # SGD; each step's lr is set from --lr by set_learning_rates below
        progress = RunProgress()
        if checkpoint is None and args.dirac_init:
            dirac_init(model)
        if checkpoint is None and isinstance(model, FastNet):  # its first layer is set from the data, once
            sample = torch.randperm(len(train_labels), generator=torch.Generator().manual_seed(args.seed))[:5000]
            model.whiten_stem(to_model_input(train_images[sample.to(device)], args.normalize))
        average = WeightAverage(model, args.ema) if args.ema else None  # --ema: what the tests evaluate
        if checkpoint is not None:
            progress = restore_run(checkpoint, args.resume, model, optim, device, average)
            done = plural(progress.epochs_done, "epoch") + " done"
            if progress.step_in_epoch:  # stopped mid-epoch (Ctrl-C): the next step is the one after it
                done += f", and epoch {progress.epochs_done + 1} up to step {progress.step_in_epoch}"
            say(f"resuming run {args.run_name} from {args.resume}: {done}")
            if changes := resume_changes(checkpoint["settings"], args):
                say(f"changed now: {changes}")
            if checkpoint.get("classes", list(classes)) != list(classes):
                say(f"note: the labels now mean {', '.join(classes)} (the run had {', '.join(checkpoint['classes'])})")
        seconds_before = progress.seconds  # the earlier processes of a resumed run
        tested_model = average.model if average else model
        train_model = nn.parallel.DistributedDataParallel(model) if world > 1 else model
        example = to_model_input(train_images[: args.batch_size], args.normalize, channels_last=True)
        train_model, note = maybe_compile(
            train_model, args.compile, device, example, train_labels[: len(example)], loss_fn
        )
        say(note)
        steps_per_epoch = math.ceil(len(train_labels) / args.batch_size)
        total_steps, first_epoch = args.epochs * steps_per_epoch, progress.epochs_done
        if checkpoint is not None and (
            note := lr_jump_note(checkpoint["settings"], args, progress.global_step, steps_per_epoch)
        ):
            say(note)  # --epochs or --schedule changed: the schedule does not go on where it stopped
        say(f"run {args.run_name}: {describe(args)}\nlogs in {log_dir}, checkpoints in {checkpoint_dir}")

        writer = (
            SummaryWriter(str(log_dir), purge_step=progress.global_step + 1 if checkpoint else None)
            if rank == 0
            else NoWriter()
        )
        with CtrlC() as ctrl_c, writer:
            if checkpoint is None:
                add_graph(writer, model, example[:8])
            for epoch in range(first_epoch, args.epochs):
                if args.stop_after and epoch - first_epoch >= args.stop_after:
                    say(
                        f"stopped after {plural(args.stop_after, 'epoch')} as asked; go on with: {resume_command(checkpoint_dir)}"
                    )
                    break
                # 训练步骤开始 / training: the notes' step on every batch
                train_model.train()
                generator = epoch_generator(args.seed, epoch)  # the same batches after a resume
                images = train_images
                if args.augment:  # every image cropped (and mirrored) anew, once per epoch
                    flips = alternating_flips(len(train_labels), args.seed, epoch) if args.flip == "alternate" else None
                    images = augment_images(train_images, generator, args.augment_padding, flips)
                batches = epoch_batches(images, train_labels, args.batch_size, generator, rank, world, args.workers)
                bar = ProgressLine(
                    steps_per_epoch, f"epoch {epoch + 1}/{args.epochs}", progress.step_in_epoch, rank > 0
                )
                sum_loss = torch.tensor(progress.partial_loss_sum, device=device)
                epoch_started, seen = time.perf_counter(), 0
                for step, (imgs, targets) in enumerate(batches):
                    if step < progress.step_in_epoch:  # resuming mid-epoch: these were trained before the stop
                        continue
                    if distributed.any_rank(ctrl_c.requested or say.closed, device):  # between steps: safe to save
                        progress.seconds = seconds_before + time.perf_counter() - started
                        save_and_stop(model, optim, args, progress, sum_loss, checkpoint_dir, rank, average, classes)
                    set_learning_rates(optim, args, progress.global_step, total_steps, epoch)  # schedule, groups
                    imgs = to_model_input(imgs, args.normalize, channels_last=True)
                    with autocast(args.amp, device):
                        outputs = train_model(imgs)
                        result_loss = loss_fn(outputs, targets)
                    optim.zero_grad()
                    result_loss.backward()
                    optim.step()
                    if average:
                        average.update(model)
                    sum_loss += result_loss.detach()  # stays on the device: no host sync per step
                    seen += len(targets) * world
                    progress.global_step, progress.step_in_epoch = progress.global_step + 1, step + 1
                    if progress.global_step % args.log_every == 0:  # the loop's only host sync
                        loss_now = finite(distributed.mean(result_loss), args, epoch, step, DIVERGED_LOSS)
                        writer.add_scalar("train/loss", loss_now, progress.global_step)
                        writer.add_scalar("train/lr", optim.param_groups[0]["lr"], progress.global_step)
                        bar.show(f"loss {loss_now:.3f}, {seen / (time.perf_counter() - epoch_started):.0f} img/s")
                    bar.update(lambda loss=result_loss: f"loss {loss.item():.3f}")
                bar.close()
                seconds = time.perf_counter() - epoch_started
                sum_loss = distributed.mean(sum_loss)
                finite(sum_loss / steps_per_epoch, args, epoch, steps_per_epoch - 1, DIVERGED_LOSS)  # before saving

                # 测试步骤开始 / testing, without gradients
                test_loss, test_accuracy, class_accuracy = evaluate(
                    tested_model, test_images, test_labels, args, device, False, rank, world
                )
                tta_accuracy = None
                if args.tta and epoch + 1 == args.epochs:  # once, at the end: it doubles the cost of a test pass
                    _, tta_accuracy, class_accuracy = evaluate(
                        tested_model, test_images, test_labels, args, device, True, rank, world
                    )
                record = EpochRecord(
                    epoch + 1,
                    sum_loss / steps_per_epoch,
                    sum_loss,
                    test_loss,
                    test_accuracy,
                    seen / seconds,
                    seconds,
                    time.perf_counter() - started,
                    tta_accuracy,
                )
                progress.history.append(record)
                progress.epochs_done, progress.step_in_epoch, progress.partial_loss_sum = epoch + 1, 0, 0.0
                progress.class_accuracy = class_accuracy
                tta_note = f" ({100 * tta_accuracy:.2f}% with TTA)" if tta_accuracy is not None else ""
                say(
                    f"epoch {epoch + 1}/{args.epochs}  train loss {record.train_loss:.4f} (sum {sum_loss:.1f})  "
                    f"test loss {test_loss:.4f}  test accuracy {100 * test_accuracy:.2f}%{tta_note}  "
                    f"{record.train_images_per_sec:.0f} img/s  {seconds:.1f}s"
                )
                writer.add_scalar("test/loss", test_loss, epoch + 1)
                writer.add_scalar("test/accuracy", test_accuracy, epoch + 1)
                writer.add_scalar("train/epoch_loss", record.train_loss, epoch + 1)
                writer.add_scalar("train/images_per_sec", record.train_images_per_sec, epoch + 1)
                progress.seconds = seconds_before + time.perf_counter() - started
                if rank == 0:  # 保存模型 / save: last.pt every epoch, best.pt when the accuracy improves
                    improved = test_accuracy > progress.best_accuracy
                    progress.best_accuracy = max(progress.best_accuracy, test_accuracy)
                    check_output_folder(checkpoint_dir, "--checkpoint-dir", create=True)
                    save_checkpoint(checkpoint_dir / "last.pt", model, optim, args, progress, average, classes)
                    if improved:
                        save_checkpoint(checkpoint_dir / "best.pt", model, optim, args, progress, average, classes)
            if rank == 0 and progress.history:
                report(
                    args,
                    progress,
                    tested_model,
                    test_images,
                    test_labels,
                    writer,
                    device,
                    world,
                    say,
                    checkpoint_dir,
                    classes,
                )


# TensorBoard's HPARAMS tab: the settings that change what is learned.
HPARAMS = ("recipe", "model", "epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "label_smoothing")
HPARAMS += ("schedule", "seed", "augment", "augment_padding", "normalize", "tta", "tta_crops", "amp")
HPARAMS += ("ema", "bn_bias_lr", "dirac_init", "flip", "stem_bias_epochs")
# Cross-entropy over ten classes starts near 2.3; a batch's loss this high means the weights have blown up.
DIVERGED_LOSS = 100.0


def finite(value: float, args, epoch: int, step: int, limit: float = math.inf) -> float:
    if not math.isfinite(value) or value > limit:
        where = f"the training loss became {value:.4g} at epoch {epoch + 1}, step {step + 1}"
        if args.lr * args.weight_decay >= 1:  # each step's decay alone takes away more than the whole weight
            raise UserError(
                f"{where}: --weight-decay {args.weight_decay:g} is far too high for --lr {args.lr:g} (their product "
                f"must stay well below 1; 5e-4 is usual); try a lower --weight-decay"
            )
        momentum = f" or --momentum (it was {args.momentum:g})" if args.momentum else ""
        raise UserError(
            f"{where}: the learning rate is probably too high for this setup; try a lower --lr "
            f"(it was {args.lr:g}){momentum}"
        )
    return value


def save_and_stop(model, optim, args, progress, sum_loss, checkpoint_dir: Path, rank: int, average, classes):
    """The first Ctrl-C: save where the run stands (between two steps) and stop."""
    progress.partial_loss_sum = distributed.mean(sum_loss)
    if rank == 0:
        check_output_folder(checkpoint_dir, "--checkpoint-dir", create=True)
        save_checkpoint(checkpoint_dir / "last.pt", model, optim, args, progress, average, classes)
        epoch, step = progress.epochs_done + 1, progress.step_in_epoch
        where = f"in epoch {epoch} after step {step}" if step else f"after {plural(epoch - 1, 'epoch')}"
        print(f"\nstopped {where}: saved {checkpoint_dir / 'last.pt'}", file=sys.stderr)
        print(f"resume with: {resume_command(checkpoint_dir)}", file=sys.stderr, flush=True)
    raise KeyboardInterrupt


def report(args, progress, model, test_images, test_labels, writer, device, world, say, checkpoint_dir, classes):
    """The end of a run: overall and per-class accuracy, TensorBoard's extras, the metrics JSON."""
    final, table = progress.history[-1], per_class_table(progress.class_accuracy, classes)
    tta_note = (
        f", {100 * final.test_accuracy_tta:.2f}% with TTA over {tta_views(args)} views"
        if final.test_accuracy_tta is not None
        else ""
    )
    say(f"\ntest accuracy {100 * final.test_accuracy:.2f}%{tta_note} after {plural(final.epoch, 'epoch')}\n{table}")
    writer.add_text("test/per_class_accuracy", "    " + table.replace("\n", "\n    "), final.epoch)
    shown = torch.linspace(0, len(test_labels) - 1, 16, device=test_labels.device).long()  # spread: every class
    predicted = predict(model, test_images[shown], args.normalize)
    grid = labelled_predictions(test_images[shown], test_labels[shown], predicted, classes)
    writer.add_image("test/predictions", grid, final.epoch)
    if final.epoch == args.epochs:
        hparams = {k: getattr(args, k) for k in HPARAMS}
        accuracy_tta = final.test_accuracy if final.test_accuracy_tta is None else final.test_accuracy_tta
        results = {"hparam/test_accuracy": final.test_accuracy, "hparam/test_loss": final.test_loss}
        writer.add_hparams(hparams, {**results, "hparam/test_accuracy_tta": accuracy_tta}, run_name=".")
    seconds = progress.seconds  # every process of the run, up to its last checkpoint
    if args.metrics_json:
        history = [vars(record) for record in progress.history]
        rates = [record.train_images_per_sec for record in progress.history]
        write_json(
            args.metrics_json,
            {
                **{k: v for k, v in vars(final).items() if k not in ("epoch", "seconds", "elapsed_seconds")},
                "epochs": final.epoch,
                "per_class_accuracy": dict(zip(classes, progress.class_accuracy)),
                "seconds": seconds,
                "train_images_per_sec": sum(rates) / len(rates),
                "device": str(device),
                "world_size": world,
                "run_name": args.run_name,
                "history": history,
            },
        )
    say(f"done in {seconds:.1f}s; best checkpoint: {checkpoint_dir / 'best.pt'}")
    say(f"see it in TensorBoard: tensorboard --logdir {args.logdir}")


if __name__ == "__main__":
    run_main(main)
