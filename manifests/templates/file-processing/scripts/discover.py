"""Discover: find the files to process (include glob, skip patterns) and split them into chunks
for the matrix fan-out. Writes the batch plan as JSON; the chunk tasks read their share from it.
"""

import argparse
import fnmatch
import json
import os
import shutil
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--root", required=True)
parser.add_argument("--include", required=True, help="a glob under --root, e.g. **/*.csv")
parser.add_argument("--skip", default="[]", help="a JSON list of patterns to leave out")
parser.add_argument("--chunks", type=int, required=True)
parser.add_argument("--out", required=True, help="the batch plan (JSON)")
parser.add_argument("--errors", required=True, help="error folder, emptied for this batch")
args = parser.parse_args()

root = Path(args.root)
skip = json.loads(args.skip)
matched = sorted(p for p in root.glob(args.include) if p.is_file())
files, skipped = [], []
for path in matched:
    relative = path.relative_to(root).as_posix()
    (skipped if any(fnmatch.fnmatch(relative, pattern) for pattern in skip) else files).append(
        path.as_posix()
    )
# Round-robin keeps chunks within one file of each other whatever the order.
chunks = [files[index :: args.chunks] for index in range(args.chunks)]

os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
with open(args.out, "w", encoding="utf-8") as handle:
    json.dump({"files": files, "skipped": skipped, "chunks": chunks}, handle, indent=2)
shutil.rmtree(args.errors, ignore_errors=True)
os.makedirs(args.errors)
print(f"{len(files)} files in {args.chunks} chunks; {len(skipped)} skipped by pattern")
for path in skipped:
    print(f"  skip {path}")

output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a", encoding="utf-8") as handle:
        handle.write(f"files={len(files)}\nskipped={len(skipped)}\n")
