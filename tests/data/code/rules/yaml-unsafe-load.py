import yaml
from yaml import SafeLoader


def read(stream):
    # ruleid: psr.python.yaml-unsafe-load
    a = yaml.load(stream)
    # ruleid: psr.python.yaml-unsafe-load
    b = yaml.load(stream, Loader=yaml.Loader)
    # ruleid: psr.python.yaml-unsafe-load
    c = yaml.load(stream, Loader=yaml.UnsafeLoader)
    # ruleid: psr.python.yaml-unsafe-load
    d = yaml.unsafe_load(stream)

    # ok: psr.python.yaml-unsafe-load
    e = yaml.load(stream, Loader=yaml.SafeLoader)
    # ok: psr.python.yaml-unsafe-load
    f = yaml.load(stream, Loader=SafeLoader)
    # ok: psr.python.yaml-unsafe-load
    g = yaml.load(stream, yaml.CSafeLoader)
    # ok: psr.python.yaml-unsafe-load
    h = yaml.safe_load(stream)
    return a, b, c, d, e, f, g, h
