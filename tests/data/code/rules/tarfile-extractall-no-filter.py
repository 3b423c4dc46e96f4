import tarfile


def unpack(archive, target):
    # ok: psr.python.tarfile-extractall-no-filter
    with tarfile.open(archive) as tar:
        # ruleid: psr.python.tarfile-extractall-no-filter
        tar.extractall(target)
    bundle = tarfile.open(archive)
    # ruleid: psr.python.tarfile-extractall-no-filter
    bundle.extract("member.txt", target)
    # ok: psr.python.tarfile-extractall-no-filter
    bundle.extractall(target, filter="data")


def unrelated(zip_file, target):
    # ok: psr.python.tarfile-extractall-no-filter
    zip_file.extractall(target)
