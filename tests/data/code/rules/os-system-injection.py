import os


def clean(path, pattern):
    # ruleid: psr.python.os-system-injection
    os.system(f"rm -rf {path}")
    # ruleid: psr.python.os-system-injection
    os.popen("find . -name '%s'" % pattern).read()
    # ruleid: psr.python.os-system-injection
    os.system("du -sh " + path)

    # ok: psr.python.os-system-injection
    os.system("sync")
    # ok: psr.python.os-system-injection
    os.popen("uptime").read()
