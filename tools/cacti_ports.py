"""Run CACTI 7 on a 1 MiB SRAM at 45 nm with 1..4 read-write ports and print each macro's area,
the data behind logic_45nm.yaml's sram.ports (dev-side: CACTI is not a dependency).

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


def config(ports: int) -> str:
    """cache.cfg with SETTINGS, itrs-lstp devices and `ports` read-write ports."""
    settings = {**SETTINGS, "-read-write port": str(ports)}
    lines = []
    for line in Path("cache.cfg").read_text().splitlines():
        key = next((k for k in settings if line.startswith(k + " ")), None)
        lines.append(f"{key} {settings[key]}" if key else line.replace(*DEVICES))
    return "\n".join(lines) + "\n"


def area_mm2(ports: int) -> float:
    """The data array's area CACTI reports for `ports` read-write ports."""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
        cfg.write(config(ports))
    run = subprocess.run(["./cacti", "-infile", cfg.name], capture_output=True, text=True)
    Path(cfg.name).unlink()
    match = re.search(r"Data array: Area \(mm2\): ([\d.]+)", run.stdout)
    if not match:
        raise SystemExit(f"CACTI printed no area for {ports} ports:\n{run.stdout[-2000:]}")
    return float(match[1])


def main() -> None:
    areas = {ports: area_mm2(ports) for ports in (1, 2, 3, 4)}
    for ports, mm2 in areas.items():
        print(f"{ports} port(s): {mm2:.3f} mm², {mm2 / areas[1]:.3f}x one port")


if __name__ == "__main__":
    main()
