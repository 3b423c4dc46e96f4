import ssl
import urllib.request


def fetch(url):
    # ruleid: psr.python.ssl-unverified-context
    ctx = ssl._create_unverified_context()
    # ok: psr.python.ssl-unverified-context
    good = ssl.create_default_context()
    return urllib.request.urlopen(url, context=good, timeout=5), ctx
