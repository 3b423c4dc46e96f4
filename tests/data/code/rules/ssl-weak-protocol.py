import ssl


def context():
    # ruleid: psr.python.ssl-weak-protocol
    old = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
    ctx = ssl.create_default_context()
    # ruleid: psr.python.ssl-weak-protocol
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    # ok: psr.python.ssl-weak-protocol
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # ok: psr.python.ssl-weak-protocol
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return old, ctx, client
