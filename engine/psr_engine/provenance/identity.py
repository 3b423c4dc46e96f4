"""Who ran it, where: the user, the host and the CI job, read once from the environment.

GitHub Actions and GitLab CI set documented variables for the job; any other CI is recognised
by `CI=true` only. Nothing here reaches the network.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from psr_engine.store.owner import current_user


@dataclass(frozen=True, slots=True)
class CiIdentity:
    system: str  # github | gitlab | ci
    job_url: str = ""
    repository: str = ""
    actor: str = ""
    job: str = ""  # the pipeline's run/job id
    ref: str = ""
    commit: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {
            "system": self.system,
            "jobUrl": self.job_url,
            "repository": self.repository,
            "actor": self.actor,
            "job": self.job,
            "ref": self.ref,
            "commit": self.commit,
        }
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    host: str
    ci: CiIdentity | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"user": self.user, "host": self.host}
        if self.ci is not None:
            out["ci"] = self.ci.to_dict()
        return out


def ci_identity(environ: Mapping[str, str] | None = None) -> CiIdentity | None:
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo = env.get("GITHUB_REPOSITORY", "")
        run = env.get("GITHUB_RUN_ID", "")
        url = f"{server}/{repo}/actions/runs/{run}" if repo and run else ""
        attempt = env.get("GITHUB_RUN_ATTEMPT")
        if url and attempt:
            url += f"/attempts/{attempt}"
        return CiIdentity(
            "github",
            job_url=url,
            repository=repo,
            actor=env.get("GITHUB_ACTOR", ""),
            job=run,
            ref=env.get("GITHUB_REF", ""),
            commit=env.get("GITHUB_SHA", ""),
        )
    if env.get("GITLAB_CI") == "true":
        return CiIdentity(
            "gitlab",
            job_url=env.get("CI_JOB_URL", ""),
            repository=env.get("CI_PROJECT_PATH", ""),
            actor=env.get("GITLAB_USER_LOGIN", ""),
            job=env.get("CI_JOB_ID", ""),
            ref=env.get("CI_COMMIT_REF_NAME", ""),
            commit=env.get("CI_COMMIT_SHA", ""),
        )
    if env.get("CI", "").lower() in ("true", "1"):
        return CiIdentity("ci")
    return None


def current_identity(environ: Mapping[str, str] | None = None) -> Identity:
    return Identity(user=current_user(), host=socket.gethostname(), ci=ci_identity(environ))
