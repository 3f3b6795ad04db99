"""完整的模型训练套路 / The full training routine: train the notes' MyModel on CIFAR-10.

The notes' recipe is the default: MyModel, CrossEntropyLoss, SGD lr 0.01, batch 64, 20 epochs,
ToTensor only. Each epoch trains, then tests; TensorBoard logs and checkpoints are written as it goes.

    python 10_train_cifar10.py                                # the notes' recipe (downloads CIFAR-10)
    python 10_train_cifar10.py --image-folder DIR             # offline: DIR/train/<class>/*.png, DIR/test/...
    python 10_train_cifar10.py --fake-data --epochs 2         # a quick try, no data needed
    python 10_train_cifar10.py --recipe fast                  # FastNet for the CPU + the switches that paid: ~89.6%
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

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from training import distributed
from training.augment import epoch_batches, epoch_generator, epoch_image_size, epoch_images, resize_batch
from training.averaging import Lookahead, WeightAverage
from training.checkpoints import (
    CtrlC,
    EpochRecord,
    RunProgress,
    restore_run,
    resume_command,
    run_folders,
    save_checkpoint,
    stopped_lines,
)
from training.data import cifar10_tensors, class_names, to_model_input
from training.device import amp_note, autocast, maybe_compile, pick_device
from training.errors import STOPPED_EXIT, UserError, run_main
from training.evaluation import evaluate, evaluate_checkpoint, predictions_image
from training.models import MODELS, FastNet, dirac_init, set_batchnorm_momentum
from training.optimizer import freeze_batchnorm_scales, make_optimizer, set_learning_rates, stop_frozen_gradients
from training.recipes import size_note
from training.report import (
    NoWriter,
    Output,
    ProgressLine,
    add_graph,
    data_line,
    epoch_line,
    log_epoch,
    plural,
    report_run,
    run_metrics,
    write_json,
)
from training.settings import describe, parse_settings, resume_notes


def main(argv=None):
    # 设置 / settings (training/settings.py): the notes' defaults < --recipe < the checkpoint's (--resume) < flags
    args, checkpoint = parse_settings(argv, __doc__)
    if args.evaluate:  # --evaluate CHECKPOINT: one test pass, no training
        return evaluate_checkpoint(args, checkpoint)
    with distributed.processes(args.device) as (rank, world):  # torchrun: one process per device, else just one
        distributed.check_batch_size(args.batch_size, world)
        device = pick_device(args.device, rank, world)  # the model and every batch go there (README: "same device")
        say = Output(quiet=rank > 0)  # print, flushed; a closed pipe (| head) stops the run like Ctrl-C
        log_dir, checkpoint_dir = run_folders(args, check=rank == 0)  # LOGDIR/<run-name>, CHECKPOINT_DIR/<run-name>

        # 准备数据集 / the data: each split as one uint8 tensor on the training device
        started = time.perf_counter()
        train_images, train_labels = (t.to(device) for t in cifar10_tensors(args, train=True))
        test_images, test_labels = (t.to(device) for t in cifar10_tensors(args, train=False))
        classes = class_names(args)  # CIFAR-10's, or an image folder's own class folders
        say(data_line(device, world, len(train_labels), len(test_labels), time.perf_counter() - started))
        for note in (amp_note(args.amp, device), size_note(args, device.type)):  # bf16 or float32, and why
            if note:
                say(note)
        if args.recipe == "gpu" and device.type == "cpu":
            say("note: --recipe gpu is sized for a GPU; on a CPU, --recipe fast reaches about the same accuracy sooner")

        # 搭建神经网络, 损失函数, 优化器 / the model, the loss function, the optimizer (each switch named where it acts)
        torch.manual_seed(args.seed)
        model = MODELS[args.model]().to(device, memory_format=torch.channels_last)  # NHWC, as every batch below
        set_batchnorm_momentum(model, args.bn_momentum)  # --bn-momentum (0.1, PyTorch's own, by default)
        loss = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
        if args.bn_bias_lr:  # BatchNorm's scales stay at 1; make_optimizer gives its biases --bn-bias-lr x --lr
            freeze_batchnorm_scales(model)
        optim = make_optimizer(model, args)  # SGD; each step's lr is set from --lr by set_learning_rates below
        if checkpoint is None and args.dirac_init:  # each convolution starts as an identity
            dirac_init(model)
        if checkpoint is None and isinstance(model, FastNet):  # its first layer is set from the data, once
            sample = torch.randperm(len(train_labels), generator=torch.Generator().manual_seed(args.seed))[:5000]
            model.whiten_stem(to_model_input(train_images[sample.to(device)], args.normalize))
        average = WeightAverage(model, args.ema) if args.ema else None  # --ema: what the tests evaluate
        lookahead = Lookahead(model, args.lookahead) if args.lookahead else None  # --lookahead: a slow copy
        tested_model = average.model if average else model
        steps_per_epoch = math.ceil(len(train_labels) / args.batch_size)
        progress = RunProgress()
        if checkpoint is not None:  # --resume: weights, optimizer state, RNG and progress as the run saved them
            progress = restore_run(checkpoint, args.resume, model, optim, device, average, lookahead)
            say(resume_notes(checkpoint, args, progress, classes, steps_per_epoch))
        seconds_before = progress.seconds  # the earlier processes of a resumed run
        train_model = nn.parallel.DistributedDataParallel(model) if world > 1 else model
        example = to_model_input(train_images[: args.batch_size], args.normalize, channels_last=True)
        train_model, note = maybe_compile(
            train_model, args.compile, device, example, train_labels[: len(example)], loss
        )
        say(note)  # compile: on or off, and why
        say(f"run {args.run_name}: {describe(args)}\nlogs in {log_dir}, checkpoints in {checkpoint_dir}")

        purge_step = progress.global_step + 1 if checkpoint else None  # a resumed run overwrites what came later
        writer = SummaryWriter(str(log_dir), purge_step=purge_step) if rank == 0 else NoWriter()
        total_steps, first_epoch = args.epochs * steps_per_epoch, progress.epochs_done
        with CtrlC() as ctrl_c, writer:
            if checkpoint is None:
                add_graph(writer, model, example[:8])
            last_epoch = min(args.epochs, first_epoch + args.stop_after) if args.stop_after else args.epochs
            for epoch in range(first_epoch, last_epoch):
                # 训练步骤开始 / training: the notes' step on every batch
                train_model.train()
                if world == 1:  # a frozen stem bias needs no gradient: the first convolution then costs less
                    stop_frozen_gradients(optim, epoch)
                generator = epoch_generator(args.seed, epoch)  # the same batches after a resume
                images = epoch_images(train_images, args, generator, epoch)  # --augment, --flip: new crops, flips
                batches = epoch_batches(images, train_labels, args.batch_size, generator, rank, world, args.workers)
                size = epoch_image_size(args, epoch, full_size=train_images.shape[-1])  # --resize-epochs
                label = f"epoch {epoch + 1}/{args.epochs}" + (
                    f" at {size}x{size}" if size < train_images.shape[-1] else ""
                )
                bar = ProgressLine(steps_per_epoch, label, progress.step_in_epoch, rank > 0)
                sum_loss = torch.tensor(progress.partial_loss_sum, device=device)
                epoch_started, seen = time.perf_counter(), 0
                for step, data in enumerate(batches):
                    if step < progress.step_in_epoch:  # resuming mid-epoch: these were trained before the stop
                        continue
                    # Ctrl-C or | head: save, stop. Under torchrun all processes agree first (a host sync per step).
                    if distributed.any_rank(ctrl_c.requested or say.closed, device):
                        progress.partial_loss_sum = distributed.mean(sum_loss)
                        progress.seconds = seconds_before + time.perf_counter() - started
                        if rank == 0:
                            save_checkpoint(
                                checkpoint_dir / "last.pt", model, optim, args, progress, average, classes, lookahead
                            )
                            print(stopped_lines(checkpoint_dir, progress), file=sys.stderr, flush=True)
                        return STOPPED_EXIT
                    set_learning_rates(optim, args, progress.global_step, total_steps, epoch)  # --lr x --schedule
                    img, target = data
                    img = to_model_input(img, args.normalize, channels_last=True)  # uint8 -> floats, as ToTensor
                    img = resize_batch(img, size)  # --resize-epochs: smaller images in the first epochs
                    with autocast(args.amp, device):  # --amp: bf16 where the device computes it natively
                        # 模型推理
                        output = train_model(img)
                        # 计算损失
                        result_loss = loss(output, target)
                    # 反向传播
                    optim.zero_grad()
                    result_loss.backward()
                    optim.step()
                    if lookahead:  # every --lookahead steps, back toward the slow weights
                        lookahead.update(model, progress.global_step + 1, total_steps)
                    if average:
                        average.update(model)
                    sum_loss += result_loss.detach()  # the notes' sum_loss, kept on the device: .item() would wait
                    seen += len(target) * world
                    progress.global_step, progress.step_in_epoch = progress.global_step + 1, step + 1
                    if progress.global_step % args.log_every == 0:  # reads the loss: waits for the device
                        loss_now = finite(distributed.mean(result_loss), args, epoch, step, DIVERGED_LOSS)
                        writer.add_scalar("train/loss", loss_now, progress.global_step)
                        writer.add_scalar("train/lr", optim.param_groups[0]["lr"], progress.global_step)
                        bar.show(f"loss {loss_now:.3f}, {seen / (time.perf_counter() - epoch_started):.0f} img/s")
                    bar.update(result_loss)  # a plain progress line (every ~10%, no terminal) reads it too
                bar.close()
                seconds = time.perf_counter() - epoch_started
                sum_loss = distributed.mean(sum_loss)
                finite(sum_loss / steps_per_epoch, args, epoch, steps_per_epoch - 1, DIVERGED_LOSS)  # before saving

                # 测试步骤开始 / testing, without gradients
                tested = dict(device=device, rank=rank, world=world, num_classes=len(classes))
                test_loss, test_accuracy, class_accuracy = evaluate(
                    tested_model, test_images, test_labels, args, **tested
                )
                tta_accuracy = None
                if args.tta and epoch + 1 == args.epochs:  # once, at the end: it doubles the cost of a test pass
                    _, tta_accuracy, class_accuracy = evaluate(
                        tested_model, test_images, test_labels, args, tta=True, **tested
                    )
                record = EpochRecord(
                    epoch=epoch + 1,
                    train_loss=sum_loss / steps_per_epoch,
                    train_loss_sum=sum_loss,
                    test_loss=test_loss,
                    test_accuracy=test_accuracy,
                    train_images_per_sec=seen / seconds,
                    seconds=seconds,
                    elapsed_seconds=time.perf_counter() - started,
                    test_accuracy_tta=tta_accuracy,
                )
                improved = progress.end_epoch(record, class_accuracy)
                say(epoch_line(record, args.epochs))
                log_epoch(writer, record)
                progress.seconds = seconds_before + time.perf_counter() - started
                if rank == 0:  # 保存模型 / save: last.pt every epoch, best.pt when the accuracy improves
                    for name in ("last.pt", "best.pt") if improved else ("last.pt",):
                        save_checkpoint(
                            checkpoint_dir / name, model, optim, args, progress, average, classes, lookahead
                        )

            if last_epoch < args.epochs:  # --stop-after N: N epochs now, the rest later
                say(
                    f"stopped after {plural(args.stop_after, 'epoch')} as asked; go on with: {resume_command(checkpoint_dir)}"
                )
            if rank == 0 and progress.history:  # the end: accuracy per class, TensorBoard's extras, the JSON
                grid = predictions_image(tested_model, test_images, test_labels, args, classes)
                say(report_run(writer, args, progress, classes, grid))
                if args.metrics_json:
                    write_json(args.metrics_json, run_metrics(args, progress, classes, device, world))
                say(f"done in {progress.seconds:.1f}s; best checkpoint: {checkpoint_dir / 'best.pt'}")
                say(f"see it in TensorBoard: tensorboard --logdir {args.logdir}")


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


if __name__ == "__main__":
    run_main(main)
