import json
import pickle

import dill


def restore(blob, fh):
    # ruleid: psr.python.pickle-load
    state = pickle.loads(blob)
    # ruleid: psr.python.pickle-load
    more = pickle.load(fh)
    # ruleid: psr.python.pickle-load
    fn = dill.loads(blob)
    # ok: psr.python.pickle-load
    safe = json.loads(blob)
    # ok: psr.python.pickle-load
    out = pickle.dumps(state)
    return state, more, fn, safe, out
