def calculate(expression, scope):
    # ruleid: psr.python.eval-injection
    value = eval(expression)
    # ruleid: psr.python.eval-injection
    other = eval(expression, {"__builtins__": {}}, scope)
    # ok: psr.python.eval-injection
    constant = eval("1 + 2")
    return value, other, constant
