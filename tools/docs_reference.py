"""Generate the docs' reference pages from the code: the YAML reference from the JSON Schema
(itself generated from the pydantic specs), the CLI reference from `simulator.cli.build_parser`,
and one Markdown page per notebook (cells as written; notebooks are saved without outputs).

`python tools/docs_reference.py OUT_DIR` writes them; the MkDocs hook calls the same functions.
"""

import argparse
import json
import sys
from pathlib import Path

import nbformat

from simulator.cli import build_parser
from simulator.errors import a_or_an
from simulator.schema import MODELS, json_schema

ROOT = Path(__file__).resolve().parent.parent
FILES = {"arch": "archs", "workload": "workloads", "mapping": "mappings", "sweep": "sweeps"}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _type(prop: dict) -> str:
    """A field's type in words: unit strings with an example, refs as links, unions joined."""
    if "x-unit" in prop:
        return f"{prop['x-unit']} string, e.g. `{prop['examples'][0]}`"
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop or "oneOf" in prop:
        options = [_type(option) for option in prop.get("anyOf", prop.get("oneOf"))]
        return " or ".join(dict.fromkeys(options))
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return " or ".join(f"`{json.dumps(value)}`" for value in prop["enum"])
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}" if prop.get("items") else "list"
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"map of {_type(values)}" if isinstance(values, dict) and values else "map"
    if kind == "null":
        return "null"
    return kind or "any"


def _model_table(model: dict) -> list[str]:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    required = set(model.get("required", ()))
    for key, prop in model.get("properties", {}).items():
        default = "required" if key in required else f"`{json.dumps(prop.get('default'))}`"
        lines.append(
            f"| `{key}` | {_cell(_type(prop))} | {_cell(default)} | {_cell(prop.get('description', ''))} |"
        )
    return lines


def yaml_reference() -> str:
    """Every field of every file kind: type (with its unit), default and docstring."""
    out = [
        "# YAML reference",
        "",
        "Generated from the specs in `simulator/spec/` (the same text as `accsim schema KIND`).",
        "Unit fields are strings: a number, a space and a unit (`700 MHz`, `34 GB/s`, `24 MiB`);",
        "sizes are IEC (KiB, MiB) or decimal (kB, MB) as written, bandwidths decimal. Every shipped",
        "YAML starts with a `# yaml-language-server: $schema=...` line that points editors at",
        "`schemas/KIND.schema.json` in the repository.",
        "",
    ]
    seen: set[str] = set()
    for kind in MODELS:
        schema = json_schema(kind)
        out += [f"## {kind.capitalize()} files (`{FILES[kind]}/`)", ""]
        if "properties" in schema:
            out += [_cell(schema.get("description", "")), "", *_model_table(schema), ""]
        else:
            options = ", ".join(_type(option) for option in schema["anyOf"])
            out += [f"{a_or_an(kind).capitalize()} file is one of: {options}.", ""]
        for name, model in schema.get("$defs", {}).items():
            if name in seen or "properties" not in model:
                continue
            seen.add(name)
            out += [f"### {name}", "", _cell(model.get("description", "")), ""]
            out += [*_model_table(model), ""]
    return "\n".join(out)


def _actions(parser: argparse.ArgumentParser) -> list[str]:
    lines = ["| argument | help | default |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        name = ", ".join(action.option_strings) or action.dest
        if action.choices and not action.option_strings:
            name += " {" + ",".join(action.choices) + "}"
        default = action.default
        shown = (
            ""
            if default in (None, False, [], argparse.SUPPRESS) or not action.option_strings
            else f"`{default}`"
        )
        lines.append(f"| `{name}` | {_cell(action.help or '')} | {shown} |")
    return lines


def cli_reference() -> str:
    """Every subcommand of `accsim` with its usage and arguments, from the real parser."""
    parser = build_parser()
    out = [
        "# CLI reference",
        "",
        "Generated from `simulator.cli.build_parser`; `accsim COMMAND --help` prints the same.",
        "",
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
        *_actions(parser),
        "",
    ]
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    for name, sub in commands.choices.items():
        out += [f"## accsim {name}", "", helps.get(name, "") or "", ""]
        out += ["```text", sub.format_usage().strip(), "```", "", *_actions(sub), ""]
    return "\n".join(out)


def notebook_page(path: Path) -> str:
    """A notebook as Markdown: its Markdown cells as they are, code cells as Python blocks."""
    notebook = nbformat.read(path, as_version=4)
    out = [
        f"<!-- generated from notebooks/{path.name}; run it with the notebooks extra -->",
        "",
    ]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            out += [cell.source, ""]
        elif cell.cell_type == "code":
            out += ["```python", cell.source, "```", ""]
    out += [
        f"Open it with `jupyter lab notebooks/{path.name}` "
        '(after `pip install -e ".[notebooks]"`).',
        "",
    ]
    return "\n".join(out)


def notebooks() -> dict[str, str]:
    """Docs path -> Markdown for every notebook in notebooks/."""
    return {
        f"notebooks/{path.stem}.md": notebook_page(path)
        for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
    }


def pages() -> dict[str, str]:
    """Every generated page, by its path under docs/."""
    return {
        "reference/yaml.md": yaml_reference(),
        "reference/cli.md": cli_reference(),
        **notebooks(),
    }


if __name__ == "__main__":
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "site-generated")
    for name, text in pages().items():
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / name).write_text(text)
        print(out_dir / name)
