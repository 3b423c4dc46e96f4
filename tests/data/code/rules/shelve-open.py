import dbm
import shelve


def cache(path):
    # ruleid: psr.python.shelve-open
    with shelve.open(path) as db:
        db["k"] = 1
    # ok: psr.python.shelve-open
    with dbm.open(path + ".raw", "c") as raw:
        raw[b"k"] = b"1"
