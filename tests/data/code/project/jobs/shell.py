"""Jobs that shell out with user-supplied names."""

import os
import subprocess


def archive(name):
    subprocess.run(f"tar czf /backups/{name}.tgz /data/{name}", shell=True)  # planted: B602 psr.python.subprocess-shell-injection


def cleanup(directory):
    os.system("rm -rf " + directory)  # planted: B605 psr.python.os-system-injection


def calculate(expression):
    return eval(expression)  # planted: B307 psr.python.eval-injection
