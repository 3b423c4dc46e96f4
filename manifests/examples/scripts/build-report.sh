#!/usr/bin/env bash
# The release report of one quarter (what the provenance example attests).
set -euo pipefail
echo "release report for $1"
echo "orders: 1024"
