"""Strip outputs and execution counts from the book's notebooks (README: notebook output policy).

Usage: python tools/strip_notebooks.py [NOTEBOOK ...]   (default: every notebook under book/)
"""

import sys
from pathlib import Path

import nbformat


def strip(path: Path) -> bool:
    """Clear outputs and execution counts in place; return True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count, changed = [], None, True
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or sorted(Path("book").rglob("*.ipynb"))
    for path in paths:
        if ".ipynb_checkpoints" not in path.parts and strip(path):
            print(f"stripped {path}")
