"""ZigZag 3.9.1's names in its golden data, as accsim names them: dimensions, memories, actions."""

ZIGZAG_DIM = {"B": "M", "K": "N", "C": "K"}
TPU_LEVEL = {"rf_128B": "weight_regs", "rf_2B": "output_regs", "sram_2MB": "sram", "dram": "dram"}
EYERISS_LEVEL = {
    "rf_64B_A": "input_regs",
    "rf_64B_W": "weight_regs",
    "rf_16B": "output_regs",
    "sram_8KB": "output_buffer",
    "sram_64KB": "weight_sram",
    "sram_1M": "sram",
    "dram": "dram",
}
GENERIC_LEVEL = {
    "rf_I": "input_regs",
    "rf_W": "weight_regs",
    "rf_O": "output_regs",
    "sram_32MB": "sram",
    "dram": "dram",
}
# accsim's report action -> ZigZag's memory-access direction.
ACTION = {
    "read": "rd_out_to_low",
    "update": "wr_in_by_low",
    "drain": "rd_out_to_high",
    "fill": "wr_in_by_high",
}
