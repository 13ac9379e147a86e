"""CPU seconds of one `speed.py` engine row split into compile, execute and the rest (the report),
timing only, in a fresh process after a small warm-up run (as `speed.py` times it).

    python benchmarks/phases.py "h100-like LLaMA"
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import speed  # noqa: E402

import simulator  # noqa: E402
import simulator.api as api  # noqa: E402


def _timed(name: str, spent: dict[str, float]) -> None:
    """api.<name> wrapped to add its CPU seconds to spent[name]."""
    inner = getattr(api, name)

    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - start

    setattr(api, name, timed)


def main() -> None:
    (case, arch, workload, *_), *_ = [row for row in speed.ENGINE if sys.argv[1] in row[0]]
    arch, workload = arch(), workload() if callable(workload) else workload
    simulator.simulate(arch, speed._gemm(256, 256, 256, "fp16"), numerics=False)
    spent: dict[str, float] = {}
    for name in ("compile_program", "execute"):
        _timed(name, spent)
    start = time.process_time()
    report = simulator.simulate(arch, workload, numerics=False)
    total = time.process_time() - start
    rest = total - sum(spent.values())
    print(
        f"{case}: compile {spent['compile_program']:.2f} s, execute {spent['execute']:.2f} s, "
        f"the rest {rest:.2f} s, in all {total:.2f} s CPU; "
        f"{report.record.events_processed:,} events"
    )


if __name__ == "__main__":
    main()
