"""Run CACTI 7 on a 1 MiB SRAM at 45 nm with read-write ports (1..4) and with exclusive read and write
ports (1R1W, 2R1W, 2R2W) and print each macro's area, the data behind logic_45nm.yaml's sram.ports
(dev-side: CACTI is not a dependency).

Run from a built CACTI 7 source tree (HewlettPackard/cacti: `make`, then this folder holds `cacti`,
`cache.cfg` and `tech_params/`): python PATH/TO/tools/cacti_ports.py
"""

import re
import subprocess
import tempfile
from pathlib import Path

# CACTI's own cache.cfg with these lines replaced: the organisation of a plain 1 MiB scratch RAM
SETTINGS = {
    "-size (bytes)": "1048576",
    "-block size (bytes)": "8",
    "-associativity": "1",
    "-technology (u)": "0.045",
    "-output/input bus width": "64",
    "-cache type": '"ram"',
}
DEVICES = ('"itrs-hp"', '"itrs-lstp"')  # every cell and peripheral type
# (read-write, exclusive read, exclusive write) ports of each run, under the name the table uses
RUNS = {
    "read_write": {1: (1, 0, 0), 2: (2, 0, 0), 3: (3, 0, 0), 4: (4, 0, 0)},
    "split": {2: (0, 1, 1), 3: (0, 2, 1), 4: (0, 2, 2)},
}


def config(rw: int, rd: int, wr: int) -> str:
    """cache.cfg with SETTINGS, itrs-lstp devices and the given read-write, read and write ports."""
    settings = {
        **SETTINGS,
        "-read-write port": str(rw),
        "-exclusive read port": str(rd),
        "-exclusive write port": str(wr),
    }
    lines = []
    for line in Path("cache.cfg").read_text().splitlines():
        key = next((k for k in settings if line.startswith(k + " ")), None)
        lines.append(f"{key} {settings[key]}" if key else line.replace(*DEVICES))
    return "\n".join(lines) + "\n"


def area_mm2(ports: tuple[int, int, int]) -> float:
    """The data array's area CACTI reports for (read-write, read, write) ports."""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
        cfg.write(config(*ports))
    run = subprocess.run(["./cacti", "-infile", cfg.name], capture_output=True, text=True)
    Path(cfg.name).unlink()
    match = re.search(r"Data array: Area \(mm2\): ([\d.]+)", run.stdout)
    if not match:
        raise SystemExit(f"CACTI printed no area for ports {ports}:\n{run.stdout[-2000:]}")
    return float(match[1])


def main() -> None:
    one = area_mm2(RUNS["read_write"][1])
    for kind, runs in RUNS.items():
        for count, ports in runs.items():
            mm2 = area_mm2(ports)
            rw, rd, wr = ports
            print(f"{kind} {count} ({rw}RW {rd}R {wr}W): {mm2:.3f} mm², {mm2 / one:.3f}x 1RW")


if __name__ == "__main__":
    main()
