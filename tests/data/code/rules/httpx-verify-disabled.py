import httpx


def fetch(url):
    # ruleid: psr.python.httpx-verify-disabled
    client = httpx.Client(verify=False)
    # ruleid: psr.python.httpx-verify-disabled
    r = httpx.get(url, verify=False)
    # ok: psr.python.httpx-verify-disabled
    good = httpx.Client(timeout=5)
    # ok: psr.python.httpx-verify-disabled
    r2 = httpx.get(url, verify=True)
    return client, r, good, r2
