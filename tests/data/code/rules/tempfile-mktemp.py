import tempfile


def scratch():
    # ruleid: psr.python.tempfile-mktemp
    name = tempfile.mktemp(suffix=".csv")
    # ok: psr.python.tempfile-mktemp
    fd, path = tempfile.mkstemp(suffix=".csv")
    return name, fd, path
