import jinja2
from flask import render_template_string, request


def hello():
    name = request.args.get("name", "")
    # ruleid: psr.python.flask-render-template-string
    page = render_template_string(f"<h1>Hello {name}</h1>")
    # ruleid: psr.python.flask-render-template-string
    tpl = jinja2.Template("Hi " + name)
    # ok: psr.python.flask-render-template-string
    good = render_template_string("<h1>Hello {{ name }}</h1>", name=name)
    return page, tpl, good
