import subprocess
from subprocess import Popen


def run(user_dir, name):
    # ruleid: psr.python.subprocess-shell-injection
    subprocess.run(f"ls {user_dir}", shell=True)
    # ruleid: psr.python.subprocess-shell-injection
    subprocess.check_output("grep %s /etc/passwd" % name, shell=True)
    # ruleid: psr.python.subprocess-shell-injection
    subprocess.call("tar czf {}.tgz .".format(name), shell=True, cwd="/tmp")
    # ruleid: psr.python.subprocess-shell-injection
    Popen("cat " + user_dir, shell=True)

    # ok: psr.python.subprocess-shell-injection
    subprocess.run(["ls", user_dir])
    # ok: psr.python.subprocess-shell-injection
    subprocess.run("ls -la", shell=True)
    # ok: psr.python.subprocess-shell-injection
    subprocess.run(f"ls {user_dir}", shell=False)
