"""The library symlinks the npm package's installer would make (listed in pg-symlinks.json)."""

import json
import sys
from pathlib import Path

root = Path(sys.argv[1])  # the package's native/ directory
for link in json.loads((root / "pg-symlinks.json").read_text()):
    source = Path(link["source"]).relative_to("native")
    target = root / Path(link["target"]).relative_to("native")
    if not target.exists():
        target.symlink_to(root / source)
