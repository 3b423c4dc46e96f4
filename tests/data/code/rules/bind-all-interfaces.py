import socket
from http.server import HTTPServer, SimpleHTTPRequestHandler

import uvicorn


def serve(app):
    sock = socket.socket()
    # ruleid: psr.python.bind-all-interfaces
    sock.bind(("0.0.0.0", 8080))
    # ruleid: psr.python.bind-all-interfaces
    uvicorn.run(app, host="0.0.0.0", port=8000)
    # ruleid: psr.python.bind-all-interfaces
    server = HTTPServer(("0.0.0.0", 8000), SimpleHTTPRequestHandler)
    # ok: psr.python.bind-all-interfaces
    sock.bind(("127.0.0.1", 8080))
    # ok: psr.python.bind-all-interfaces
    uvicorn.run(app, host="127.0.0.1", port=8000)
    return server
