import paramiko


def connect(host):
    client = paramiko.SSHClient()
    # ruleid: psr.python.paramiko-auto-add-policy
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    # ok: psr.python.paramiko-auto-add-policy
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.load_system_host_keys()
    client.connect(host)
    return client
