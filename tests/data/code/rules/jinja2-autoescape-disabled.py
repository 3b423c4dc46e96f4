import jinja2
from jinja2 import Environment, FileSystemLoader, select_autoescape


def environments(options):
    # ruleid: psr.python.jinja2-autoescape-disabled
    a = jinja2.Environment(loader=FileSystemLoader("templates"))
    # ruleid: psr.python.jinja2-autoescape-disabled
    b = Environment(autoescape=False)
    # ok: psr.python.jinja2-autoescape-disabled
    c = Environment(loader=FileSystemLoader("templates"), autoescape=select_autoescape())
    # ok: psr.python.jinja2-autoescape-disabled
    d = jinja2.Environment(autoescape=True)
    # ok: psr.python.jinja2-autoescape-disabled
    e = Environment(**options)
    return a, b, c, d, e
