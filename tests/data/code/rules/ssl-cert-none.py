import ssl


def context(cafile):
    ctx = ssl.create_default_context()
    # ruleid: psr.python.ssl-cert-none
    ctx.check_hostname = False
    # ruleid: psr.python.ssl-cert-none
    ctx.verify_mode = ssl.CERT_NONE
    # ok: psr.python.ssl-cert-none
    ctx.verify_mode = ssl.CERT_REQUIRED
    # ok: psr.python.ssl-cert-none
    ctx.check_hostname = True
    ctx.load_verify_locations(cafile)
    return ctx
