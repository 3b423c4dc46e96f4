import requests


def fetch(url):
    # ruleid: psr.python.requests-verify-disabled
    a = requests.get(url, verify=False)
    # ruleid: psr.python.requests-verify-disabled
    b = requests.post(url, json={}, verify=False, timeout=5)
    session = requests.Session()
    # ruleid: psr.python.requests-verify-disabled
    session.verify = False
    # ok: psr.python.requests-verify-disabled
    c = requests.get(url, timeout=5)
    # ok: psr.python.requests-verify-disabled
    d = requests.get(url, verify="/etc/ssl/private-ca.pem", timeout=5)
    return a, b, c, d
