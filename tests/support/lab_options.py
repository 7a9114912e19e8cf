"""Every option the lab's commands declare, by the key the tests name it with (each declared by its command)."""

from __future__ import annotations

from concurrency_lab.bench.options import PROFILE, WORKER_COUNTS, WORKLOADS
from concurrency_lab.commands.advise import BUDGET
from concurrency_lab.commands.download import FETCH_OPTIONS
from concurrency_lab.commands.matrix import SEED, SIZE
from concurrency_lab.core.options import START_METHOD, WORKERS, Option
from concurrency_lab.core.out_path import OUT
from concurrency_lab.lesson.processor_cli import TASKS
from concurrency_lab.server.cli import PORT
from concurrency_lab.variants.options import DASK_ADDRESS, TIMEOUT, VARIANT, VARIANTS

OPTIONS: dict[str, Option] = {
    "profile": PROFILE, "variants": VARIANTS, "timeout": TIMEOUT, "variant": VARIANT, "workloads": WORKLOADS,
    "workers": WORKERS, "worker_counts": WORKER_COUNTS, "start_method": START_METHOD, "dask_address": DASK_ADDRESS,
    "out": OUT, "size": SIZE, "seed": SEED, "tasks": TASKS, "budget": BUDGET, "port": PORT,
    **{option.dest: option for option in FETCH_OPTIONS},
}
