"""A Flask app with a debug server, an unescaped template environment and a public bind."""

from flask import Flask
from jinja2 import Environment, FileSystemLoader

app = Flask(__name__)
templates = Environment(loader=FileSystemLoader("templates"), autoescape=False)  # planted: B701 psr.python.jinja2-autoescape-disabled


@app.route("/")
def index():
    return templates.get_template("index.html").render()


if __name__ == "__main__":
    app.run(debug=True)  # planted: B201 psr.python.flask-debug-enabled
