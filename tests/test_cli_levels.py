"""`accsim run` prints the energy by storage level, operand and action."""

from simulator.cli import main


def test_run_prints_the_per_level_table(capsys, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("COLUMNS", "160")
    workload = "gemm:M=64,N=64,K=64,dtype=int8,output_dtype=int8"
    assert main(["run", "zigzag-tpu-like", workload, "--no-numerics"]) == 0
    out = capsys.readouterr().out
    assert "energy by level, operand and action" in out
    rows = [line for line in out.splitlines() if "weight_regs" in line and "fill" in line]
    # 64 x 64 int8 weights fill the PEs' weight registers once: 4,096 elements and accesses
    assert rows and rows[0].count("4,096") == 2
