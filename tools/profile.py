"""``python -m tools.profile``: where a training step's time goes, by each framework's profiler.

The bench says how long a step takes; this says what it spends the time on. It profiles the
course model's training step twice, with each framework's own profiler, on one random batch of
MNIST's shape (batch 128, as in the notebooks):

- PyTorch (notebook 03's model, ``channels_last``, Adam) under ``torch.profiler``, which
  reports every operator's own ("self") time;
- raw TensorFlow (notebook 05's model, the step traced by ``tf.function``) under the
  TensorFlow profiler, whose trace (an XSpace protobuf) is read back here and summed by
  operation type.

Both run where the notebooks train (a CUDA GPU when there is one: there the device's kernel
times count, else the CPU's operator times). Each gets warm-up steps first, so that tracing
and kernel choice are not counted. It prints the largest items of each and writes them, with
the machine, to ``profile.json`` of the course's record (``shared/course-results/``), which
notebook 07 reads. A run with other ``--steps`` or ``--top`` must name its own ``--output``.
About a minute on two CPU cores.

    python -m tools.profile [--steps N] [--top N] [--output PATH]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from shared import config, files, machine

from . import measurements, notebooks

BATCH = 128
WARM_UP = 3
STEPS, TOP = 20, 10  # the course's profile: what notebook 07 shows
OUTPUT = measurements.COMMITTED / "profile.json"


def shares(seconds: dict[str, float], steps: int, top: int) -> list[dict]:
    """The ``top`` largest items: name, milliseconds per step, share of all items' time."""
    total = sum(seconds.values()) or 1.0
    largest = sorted(seconds.items(), key=lambda item: item[1], reverse=True)[:top]
    return [
        {"name": name, "ms_per_step": 1000 * s / steps, "share": s / total} for name, s in largest
    ]


def torch_profile(steps: int, top: int) -> dict:
    """The PyTorch step's operators by self time (device time on a GPU)."""
    import torch
    import torch.nn.functional as F
    from torch.profiler import ProfilerActivity, profile

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(config.SEED)
    layout = torch.channels_last
    model = notebooks.torch_builder()().to(device, memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(BATCH, 1, 28, 28, device=device).contiguous(memory_format=layout)
    y = torch.randint(0, 10, (BATCH,), device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(WARM_UP):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    start = time.perf_counter()
    with profile(activities=activities) as profiler:
        for _ in range(steps):
            step()
        if device == "cuda":
            torch.cuda.synchronize()
    wall = (time.perf_counter() - start) / steps
    attribute = "self_device_time_total" if device == "cuda" else "self_cpu_time_total"
    seconds = {
        event.key: getattr(event, attribute) / 1e6 for event in profiler.key_averages()
    }  # microseconds
    return {
        "framework": f"PyTorch {torch.__version__}",
        "device": config.device_description(device),
        "measure": "self device time per operator" if device == "cuda" else "self CPU time",
        "ms_per_step": 1000 * wall,
        "items": shares({k: v for k, v in seconds.items() if v > 0}, steps, top),
    }


OP_EVENT = re.compile(r"^[^:]+:([A-Za-z0-9_]+)$")  # "gradient_tape/Conv2DBackpropInput:Op"


def xspace_seconds(path: Path) -> tuple[dict[str, float], str]:
    """Seconds per operation type (CPU) or per kernel (GPU) in a TensorFlow profiler trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(path.read_bytes())
    gpus = [plane for plane in space.planes if plane.name.startswith("/device:GPU")]
    seconds: dict[str, float] = collections.Counter()
    for plane in gpus or space.planes:
        for line in plane.lines:
            if not gpus and not line.name.startswith("tf_Compute"):
                continue  # on the CPU, operations run on the executor's compute threads
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if not gpus:
                    match = OP_EVENT.match(name)
                    if not match:
                        continue  # the executor's own bookkeeping, not an operation
                    name = match.group(1)
                seconds[name] += event.duration_ps / 1e12
    return dict(
        seconds
    ), "device time per kernel" if gpus else "CPU time per operation type, summed over threads"


def tensorflow_profile(steps: int, top: int) -> dict:
    """The raw TensorFlow step's operations, from the TensorFlow profiler's trace."""
    import tensorflow as tf

    for card in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(card, True)
    model = notebooks.tensorflow_builder()()
    optimizer = tf.keras.optimizers.Adam(1e-3)
    x = tf.random.normal([BATCH, 28, 28, 1])
    y = tf.random.uniform([BATCH], maxval=10, dtype=tf.int32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
            )
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    for _ in range(WARM_UP):
        step().numpy()
    with tempfile.TemporaryDirectory() as folder:
        tf.profiler.experimental.start(folder)
        start = time.perf_counter()
        for _ in range(steps):
            step().numpy()  # the value waits for the device
        wall = (time.perf_counter() - start) / steps
        tf.profiler.experimental.stop()
        trace = next(Path(folder).rglob("*.xplane.pb"))
        seconds, measure = xspace_seconds(trace)
    gpu = bool(tf.config.list_physical_devices("GPU"))
    return {
        "framework": f"TensorFlow {tf.__version__}",
        "device": config.device_description("gpu" if gpu else "cpu"),
        "measure": measure,
        "ms_per_step": 1000 * wall,
        "items": shares(seconds, steps, top),
    }


def report(profile: dict) -> str:
    lines = [
        f"{profile['framework']} on {profile['device']}: {profile['ms_per_step']:.1f} ms per "
        f"step (with the profiler on); largest items by {profile['measure']}:"
    ]
    lines += [
        f"  {item['name'][:60]:<60} {item['ms_per_step']:8.2f} ms  {100 * item['share']:5.1f}%"
        for item in profile["items"]
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="profiled steps per framework")
    parser.add_argument("--top", type=int, default=TOP, help="items to keep per framework")
    parser.add_argument("--output", type=Path, default=None, help=f"default: {OUTPUT}")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.top < 1:
        parser.error("--steps and --top must be at least 1")
    committed = (config.project_root() / OUTPUT).resolve()
    output = (args.output or committed).expanduser().resolve()
    if output.suffix != ".json" or output.is_dir():
        parser.error(f"--output must name a .json file, got {output}")
    if output == committed and (args.steps, args.top) != (STEPS, TOP):
        parser.error(
            f"a profile with other --steps or --top must not replace {OUTPUT}: give --output"
        )
    profiles = [torch_profile(args.steps, args.top), tensorflow_profile(args.steps, args.top)]
    for profile in profiles:
        print(report(profile) + "\n", flush=True)
    record = {
        "device": profiles[0]["device"],
        "machine": machine.describe(profiles[0]["device"]),
        "batch_size": BATCH,
        "steps": args.steps,
        "profiles": profiles,
    }
    if output == committed:
        measurements.write(config.project_root(), "profile", record)  # checked whole
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        files.write_text_atomic(output, json.dumps(record, indent=2) + "\n")
        print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
