"""The training tool behind 10_train_cifar10.py: the machinery, one module per concern.

settings     every flag, its default, the number types, and layer_settings: notes < --recipe < checkpoint < flags
recipes      --recipe presets and the learning-rate schedules
data         where CIFAR-10 comes from, decoded once into one uint8 tensor (and cached on disk)
augment      batches by index and crop + flip augmentation of whole batches on the device
models       the models beyond the notes' MyModel: MyModelReLU, MyModelBN, FastNet
device       cuda / mps / cpu, channels_last, autocast and torch.compile with its fallback
distributed  torchrun: joining and leaving the process group, summing across processes
checkpoints  what a run saves (typed), atomic writes, loading, resume, Ctrl-C
evaluation   the test pass: loss, accuracy, per-class accuracy, flip TTA
report       progress bars or log lines, the per-class table, the labelled-predictions image, JSON
errors       one-line errors for the learner (UserError) and run_main, which turns them into exit codes
"""
