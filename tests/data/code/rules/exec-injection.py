import re


def plugin(source, name):
    # ruleid: psr.python.exec-injection
    exec(source)
    # ruleid: psr.python.exec-injection
    code = compile(source, name, "exec")
    # ok: psr.python.exec-injection
    exec("x = 1")
    # ok: psr.python.exec-injection
    pattern = re.compile(source)
    return code, pattern
