"""MkDocs hook: add the generated reference pages and notebook pages to the build."""

import sys
from pathlib import Path

from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docs_reference import pages  # noqa: E402  (a sibling script, not a package)


def on_files(files, config):
    """Generate the pages in memory; nothing is written into docs/."""
    for path, text in pages().items():
        files.append(File.generated(config, path, content=text))
    return files
