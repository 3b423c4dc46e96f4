"""Fetch every page of an API endpoint into JSON lines, resiliently, and report metrics.

``--base-url mock`` starts scripts/mock_api.py in this process (offline demo).
Exit codes: 0 ok; 75 gave up on transient errors (the workflow retries 75 once more, later);
1 a permanent error (401, 404...: retrying will not help).
"""

import argparse
import json
import os
import sys

from resilient_http import RequestFailed, ResilientClient, auth_headers

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--base-url", required=True)
parser.add_argument("--path", default="/items")
parser.add_argument("--auth", default="bearer", choices=["none", "bearer", "basic", "api-key"])
parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
parser.add_argument("--max-attempts", type=int, default=5)
parser.add_argument("--backoff", type=float, default=0.5, help="first backoff ceiling, seconds")
parser.add_argument("--max-backoff", type=float, default=30.0)
parser.add_argument("--rate", type=float, default=5.0, help="requests per second (0: no limit)")
parser.add_argument("--max-pages", type=int, default=100)
parser.add_argument("--out", required=True)
parser.add_argument("--metrics", required=True)
args = parser.parse_args()

base_url = args.base_url
if base_url == "mock":
    import mock_api

    base_url = f"http://127.0.0.1:{mock_api.start().server_port}"
    print(f"using the built-in mock API at {base_url} (set -p baseUrl=https://... for yours)")

try:
    headers = auth_headers(args.auth, dict(os.environ))
except ValueError as error:
    sys.exit(f"error: {error}")
client = ResilientClient(
    base_url,
    headers=headers,
    timeout=args.timeout,
    max_attempts=args.max_attempts,
    backoff=args.backoff,
    max_backoff=args.max_backoff,
    rate=args.rate,
)

items, page, code = [], 1, 0
try:
    while page and page <= args.max_pages:
        body = client.get_json(args.path, {"page": page})
        batch = body.get("items", []) if isinstance(body, dict) else body
        items.extend(batch)
        print(f"page {page}: {len(batch)} items")
        page = body.get("next") if isinstance(body, dict) else None
except RequestFailed as error:
    print(f"error: {error}", file=sys.stderr)
    code = 75 if error.transient else 1

os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
metrics = {**client.metrics.to_dict(), "items": len(items), "complete": code == 0}
with open(args.metrics, "w", encoding="utf-8") as handle:
    json.dump(metrics, handle, indent=2)
print("metrics: " + json.dumps(metrics))
if code:
    sys.exit(code)
with open(args.out, "w", encoding="utf-8") as handle:
    handle.writelines(json.dumps(item) + "\n" for item in items)

output = os.environ.get("PSR_OUTPUT")
if output:
    with open(output, "a", encoding="utf-8") as handle:
        for key in ("items", "requests", "retries", "throttled"):
            handle.write(f"{key}={metrics[key]}\n")
