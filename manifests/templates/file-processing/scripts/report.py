"""Report: totals over every processed file, and every file that failed with its reason.

Exits 1 when more files failed than --max-failed allows (or a chunk never reported), so CI sees
it; the report is written either way.
"""

import argparse
import json
import sys
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--batch", required=True)
parser.add_argument("--processed", required=True)
parser.add_argument("--errors", required=True)
parser.add_argument("--max-failed", type=int, default=0)
parser.add_argument("--out", required=True)
args = parser.parse_args()

batch = json.loads(Path(args.batch).read_text(encoding="utf-8"))
failures, missing_chunks = [], []
for index in range(len(batch["chunks"])):
    path = Path(args.errors) / f"chunk-{index}.json"
    if path.exists():
        failures.extend(json.loads(path.read_text(encoding="utf-8")))
    else:
        missing_chunks.append(index)
summaries = [
    json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(args.processed).glob("*.json"))
]
summaries = [s for s in summaries if s["file"] in set(batch["files"])]
report = {
    "files": len(batch["files"]),
    "processed": len(summaries),
    "failed": failures,
    "skipped": batch["skipped"],
    "unreportedChunks": missing_chunks,
    "units": sum(s["units"] for s in summaries),
    "revenue": round(sum(s["revenue"] for s in summaries), 2),
}
Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
print(
    f"{report['processed']}/{report['files']} files processed, {len(failures)} failed, "
    f"{len(batch['skipped'])} skipped; {report['units']} units, revenue {report['revenue']}"
)
for failure in failures:
    print(f"FAILED {failure['file']}: {failure['error']}", file=sys.stderr)
for index in missing_chunks:
    print(f"FAILED chunk {index}: it ended without reporting (see its log)", file=sys.stderr)
if missing_chunks or len(failures) > args.max_failed:
    print(
        f"{len(failures)} file(s) failed, at most {args.max_failed} allowed; see {args.out}",
        file=sys.stderr,
    )
    sys.exit(1)
