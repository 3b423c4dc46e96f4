import os
import zipfile
from pathlib import Path


def unpack(archive, target: Path):
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            # ruleid: psr.python.zipfile-path-traversal
            dest = os.path.join(target, name)
            with open(dest, "wb") as out:
                out.write(zf.read(name))
        for info in zf.infolist():
            # ruleid: psr.python.zipfile-path-traversal
            other = target / info.filename
            other.write_bytes(zf.read(info))
        for name in zf.namelist():
            # ok: psr.python.zipfile-path-traversal
            safe = os.path.join(target, os.path.basename(name))
            print(safe)
        # ok: psr.python.zipfile-path-traversal
        zf.extractall(target)
