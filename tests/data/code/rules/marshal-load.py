import json
import marshal


def restore(blob):
    # ruleid: psr.python.marshal-load
    code = marshal.loads(blob)
    # ok: psr.python.marshal-load
    data = json.loads(blob)
    # ok: psr.python.marshal-load
    out = marshal.dumps(data)
    return code, out
