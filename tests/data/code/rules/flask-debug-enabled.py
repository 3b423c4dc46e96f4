import os

from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    # ruleid: psr.python.flask-debug-enabled
    app.run(debug=True)
    # ok: psr.python.flask-debug-enabled
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")
    # ok: psr.python.flask-debug-enabled
    app.run()
