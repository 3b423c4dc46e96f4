import logging

logger = logging.getLogger(__name__)


def login(user, password, api_token):
    # ruleid: psr.python.logging-secret
    logger.info("login %s with %s", user, password)
    # ruleid: psr.python.logging-secret
    logging.debug(f"token is {api_token}")
    # ruleid: psr.python.logging-secret
    logger.warning("retrying with %s" % api_token)
    # ok: psr.python.logging-secret
    logger.info("login %s", user)
    # ok: psr.python.logging-secret
    logger.info("password set: %s", bool(password))
