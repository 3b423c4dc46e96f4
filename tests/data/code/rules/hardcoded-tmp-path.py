import os
import tempfile


def write(data):
    # ruleid: psr.python.hardcoded-tmp-path
    with open("/tmp/report.csv", "w") as fh:
        fh.write(data)
    # ruleid: psr.python.hardcoded-tmp-path
    fd = os.open("/var/tmp/lock", os.O_CREAT)
    # ok: psr.python.hardcoded-tmp-path
    with open("report.csv", "w") as fh:
        fh.write(data)
    # ok: psr.python.hardcoded-tmp-path
    with tempfile.NamedTemporaryFile("w") as fh:
        fh.write(data)
    return fd
