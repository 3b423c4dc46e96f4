import os
import stat
from pathlib import Path


def permissions(path: str):
    # ruleid: psr.python.chmod-world-writable
    os.chmod(path, 0o777)
    # ruleid: psr.python.chmod-world-writable
    Path(path).chmod(0o666)
    # ok: psr.python.chmod-world-writable
    os.chmod(path, 0o755)
    # ok: psr.python.chmod-world-writable
    os.chmod(path, 0o600)
    # ok: psr.python.chmod-world-writable
    os.chmod(path, stat.S_IRUSR)
