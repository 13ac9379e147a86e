"""`accsim schema KIND`: the JSON Schema of arch, workload, mapping or sweep files."""

from rich.console import Console

from simulator.cli.paths import output_file, write_text
from simulator.schema import schema_text


def schema_command(args, console: Console) -> int:
    """Print the schema, or write it to `-o FILE`."""
    text = schema_text(args.kind)
    if args.output:
        write_text(output_file(args.output, "-o"), text, "-o")
        console.print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0
