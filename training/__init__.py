"""The training tool behind 10_train_cifar10.py: the machinery, one module per concern.

settings     every flag, its default, the number types, and layer_settings: notes < --recipe < checkpoint < flags
recipes      --recipe presets, each one dict of settings (RECIPES)
optimizer    the SGD, its parameter groups (--bn-bias-lr, the stem bias) and each step's lr (--lr x --schedule)
models       the models beyond the notes' MyModel: MyModelReLU, MyModelBN, FastNet; --dirac-init
data         where CIFAR-10 comes from, decoded once into one uint8 tensor (and cached on disk)
augment      batches by index, and crop + flip augmentation of whole epochs on the device (--augment, --flip)
averaging    --ema: the moving average of the weights that the tests evaluate
device       cuda / mps / cpu, autocast (--amp) and torch.compile with its fallback (--compile)
distributed  torchrun: joining and leaving the process group, summing across processes
checkpoints  what a run saves (typed), atomic writes, loading, resume, Ctrl-C
evaluation   the test pass: loss, accuracy, per-class accuracy, flip TTA; --evaluate CHECKPOINT
report       progress bars or log lines, the per-class table, TensorBoard's extras, the metrics JSON
errors       one-line errors for the learner (UserError) and run_main, which turns them into exit codes
"""
