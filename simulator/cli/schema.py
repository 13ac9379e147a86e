"""`accsim schema KIND`: the JSON Schema of arch, workload, mapping or sweep files."""

from pathlib import Path

from rich.console import Console

from simulator.schema import schema_text


def schema_command(args, console: Console) -> int:
    """Print the schema, or write it to `-o FILE`."""
    text = schema_text(args.kind)
    if args.output:
        Path(args.output).write_text(text)
        console.print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0
