"""Files, archives and remote copies."""

import os
import tarfile
import tempfile

import paramiko
import requests


def unpack(archive, target):
    with tarfile.open(archive) as tar:
        tar.extractall(target)  # planted: B202 psr.python.tarfile-extractall-no-filter


def share(path):
    os.chmod(path, 0o777)  # planted: B103 psr.python.chmod-world-writable


def scratch_name():
    return tempfile.mktemp(suffix=".csv")  # planted: B306 psr.python.tempfile-mktemp


def download(url):
    return requests.get(url, verify=False, timeout=10)  # planted: B501 psr.python.requests-verify-disabled


def remote(host):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # planted: B507 psr.python.paramiko-auto-add-policy
    client.connect(host)
    return client
