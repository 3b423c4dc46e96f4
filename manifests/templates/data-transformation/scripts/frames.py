"""What the data-transformation steps share: importing pandas with a helpful message, reading
each source format, and checking the columns a step relies on."""

import os
import sys

STAGING = "output/staging"


def pandas():
    """pandas, or exit 2 naming the extra that installs it."""
    try:
        import pandas as pd
    except ImportError:
        sys.exit("error: pandas is not installed: pip install 'psr-engine[data]'")
    return pd


def read(path, *, sheet=None):
    """A DataFrame from .csv, .json (records) or .xlsx (openpyxl); exit 2 when unreadable."""
    pd = pandas()
    kind = os.path.splitext(path)[1].lower()
    try:
        if kind == ".csv":
            return pd.read_csv(path, skipinitialspace=True)
        if kind == ".json":
            return pd.read_json(path, orient="records")
        if kind in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=sheet or 0, engine="openpyxl")
    except ImportError as error:  # openpyxl missing
        sys.exit(f"error: {path}: {error}; pip install 'psr-engine[data]'")
    except FileNotFoundError:
        sys.exit(f"error: {path}: no such file")
    except ValueError as error:
        sys.exit(f"error: {path}: cannot read: {error}")
    sys.exit(f"error: {path}: unsupported file type {kind!r} (csv, json, xlsx)")


def require(frame, columns, source):
    """Exit 2 naming the missing columns (and the ones found) when ``frame`` lacks any."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        sys.exit(f"error: {source}: missing column(s) {', '.join(missing)}; found: {found}")


def stage(name):
    os.makedirs(STAGING, exist_ok=True)
    return os.path.join(STAGING, f"{name}.pkl")


def set_outputs(**values):
    output = os.environ.get("PSR_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())
