"""A tiny, clean application for the security-gates example."""

import subprocess


def list_dir(path: str) -> str:
    # An argument list, no shell: nothing in `path` can inject a command.
    return subprocess.run(["ls", "-1", path], capture_output=True, text=True, check=True).stdout
