"""Service tokens beyond the big clouds: mostly self-identifying (a literal prefix), found bare.

The set follows a rule-by-rule comparison with gitleaks' default rules (which were added,
which were left out and why: docs/features/secret-scanning.md). A prefixed token needs no
context, so these run wherever their prefix occurs. Platform keys that are plain UUIDs
(Heroku, HubSpot, Snyk) count only beside their platform's name: a UUID alone is an id.
"""

from __future__ import annotations

import re

from psr_engine.gates.secret_rule import (
    UUID,
    SecretRule,
    discord_token_ok,
    in_context,
    looks_random,
    mixed_case,
    mixed_hex,
    prefixed,
    rule,
    token,
)


def _uuid_in_context(id: str, title: str, platform: str) -> SecretRule:
    """A UUID assigned to ``<platform>…key/token``: a credential only because of its name."""
    names = rf"{platform}[\w.\-]*?(?:api[_\-.]?key|key|token|secret|password)"
    return rule(
        id,
        title,
        in_context(names, UUID),
        shape=UUID,
        keywords=(platform,),
        severity="high",
        allowlist="uuid",
    )


_PREFIX = re.compile(r"^[A-Za-z0-9]*?[_:\-]")


def _tail_random(value: str) -> bool:
    """After its prefix (``hf_``, ``123456:``), the token mixes cases, or digits and letters."""
    tail = _PREFIX.sub("", value, count=1)
    return mixed_case(tail) or mixed_hex(tail)


def _hex_after_prefix(value: str) -> bool:
    """``dapi`` + 32 hex digits: the digits mix digits and letters."""
    return mixed_hex(value[4:36])


def _hex_before_suffix(value: str) -> bool:
    """32 hex digits + ``-us12``: the digits mix digits and letters."""
    return mixed_hex(value[:32])


SAAS_RULES: tuple[SecretRule, ...] = (
    rule(
        # Base64 of the bot's numeric id, a 6-character timestamp, an HMAC: no literal prefix,
        # so no keywords; it runs on texts with a `.xxxxxx.` part, and the id must be digits.
        "discord-bot-token",
        "Discord bot token",
        # The character set first, then the boundary: the regex engine skips to M, N and O.
        r"(?P<secret>[MNO](?<![A-Za-z0-9_\-][MNO])[A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}"
        r"\.[A-Za-z0-9_\-]{27,38})(?![A-Za-z0-9_\-])",
        shape=r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}",
        keywords=(),
        severity="high",
        context=r"\.[A-Za-z0-9_\-]{6}\.",  # cheap: most texts have no such part
        validator=discord_token_ok,
    ),
    rule(
        "discord-webhook-url",
        "Discord webhook URL",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/"
        r"(?P<secret>\d{17,20}/[A-Za-z0-9_\-]{60,70})" + r"(?![A-Za-z0-9_\-])",
        shape=r"\d{17,20}/[A-Za-z0-9_\-]{60,70}",
        keywords=("/api/webhooks/",),
        severity="high",
    ),
    prefixed(
        "huggingface-token",
        "Hugging Face token",
        r"(?:hf_|api_org_)[A-Za-z]{34}",
        keywords=("hf_", "api_org_"),
        validator=_tail_random,
    ),
    _uuid_in_context("heroku-api-key", "Heroku API key", "heroku"),
    prefixed("heroku-api-key", "Heroku API key", r"HRKU-AA[0-9A-Za-z_\-]{58}", keywords=("hrku-",)),
    _uuid_in_context("hubspot-api-key", "HubSpot API key", "hubspot"),
    prefixed(
        "hubspot-api-key",
        "HubSpot private app token",
        rf"pat-(?:na|eu|ap)\d-{UUID}",
        keywords=("pat-na", "pat-eu", "pat-ap"),
    ),
    _uuid_in_context("snyk-api-token", "Snyk API token", "snyk"),
    prefixed(
        "telegram-bot-token",
        "Telegram bot token",
        r"(?<![\d:])\d{8,10}:AA[A-Za-z0-9_\-]{33}",
        keywords=(":aa",),
        validator=_tail_random,
    ),
    prefixed(
        "digitalocean-token",
        "DigitalOcean token",
        r"do[opr]_v1_[a-f0-9]{64}",
        keywords=("dop_v1_", "doo_v1_", "dor_v1_"),
        validator=mixed_hex,
    ),
    prefixed(
        "databricks-token",
        "Databricks token",
        r"dapi[a-f0-9]{32}(?:-\d)?",
        keywords=("dapi",),
        validator=_hex_after_prefix,
    ),
    prefixed(
        "postman-api-key", "Postman API key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", keywords=("pmak-",)
    ),
    prefixed(
        "brevo-api-key",
        "Brevo (Sendinblue) API key",
        r"x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}",
        keywords=("xkeysib-", "xsmtpsib-"),
    ),
    prefixed(
        "mailchimp-api-key",
        "Mailchimp API key",
        r"[a-f0-9]{32}-us\d{1,2}",
        keywords=("-us",),
        validator=_hex_before_suffix,
    ),
    prefixed(
        "linear-api-key", "Linear API key", r"lin_api_[A-Za-z0-9]{40}", keywords=("lin_api_",)
    ),
    prefixed(
        "notion-token", "Notion integration token", r"ntn_\d{11}[A-Za-z0-9]{35}", keywords=("ntn_",)
    ),
    prefixed(
        "perplexity-api-key", "Perplexity API key", r"pplx-[A-Za-z0-9]{48}", keywords=("pplx-",)
    ),
    prefixed(
        "grafana-token",
        "Grafana token",
        r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,400}={0,3}"
        r"|eyJrIjoi[A-Za-z0-9]{70,400}={0,3}",
        keywords=("glsa_", "glc_", "eyjrijoi"),
        validator=looks_random,
    ),
    prefixed(
        "sentry-token",
        "Sentry token",
        r"sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=]{60,400}_[A-Za-z0-9+/]{43}",
        keywords=("sntryu_", "sntrys_"),
    ),
    prefixed("pulumi-token", "Pulumi access token", r"pul-[a-f0-9]{40}", keywords=("pul-",)),
    prefixed(
        "terraform-cloud-token",
        "Terraform Cloud token",
        r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}",
        keywords=("atlasv1",),
    ),
    prefixed(
        "doppler-token",
        "Doppler token",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
        keywords=("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."),
    ),
    prefixed(
        "dynatrace-token",
        "Dynatrace API token",
        r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}",
        keywords=("dt0c01.",),
    ),
    prefixed(
        "new-relic-key",
        "New Relic key",
        r"NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9\-]{32}",
        keywords=("nrak-", "nrii-"),
    ),
    prefixed(
        "rubygems-token", "RubyGems API key", r"rubygems_[a-f0-9]{48}", keywords=("rubygems_",)
    ),
    prefixed(
        "clojars-token", "Clojars deploy token", r"CLOJARS_[a-z0-9]{60}", keywords=("clojars_",)
    ),
    prefixed(
        "age-secret-key",
        "age secret key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        keywords=("age-secret-key-1",),
        severity="critical",
    ),
    prefixed(
        "onepassword-token",
        "1Password secret",
        r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}"
        r"|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
        keywords=("ops_eyj", "a3-"),
        severity="critical",
    ),
    prefixed(
        "alibaba-access-key-id",
        "Alibaba Cloud AccessKey ID",
        r"LTAI[A-Za-z0-9]{20}",
        keywords=("ltai",),
        validator=looks_random,
    ),
    prefixed(
        "aws-bedrock-api-key",
        "Amazon Bedrock API key",
        r"ABSK[A-Za-z0-9+/]{109,269}={0,2}",
        keywords=("absk",),
        severity="critical",
    ),
    prefixed(
        "artifactory-token",
        "JFrog Artifactory token",
        r"AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59}",
        keywords=("akcp", "cmvmd"),
        validator=looks_random,
    ),
    prefixed(
        "atlassian-api-token",
        "Atlassian API token",
        r"ATATT3[A-Za-z0-9_=\-]{186}",
        keywords=("atatt3",),
    ),
    prefixed(
        "square-token",
        "Square access token",
        r"sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,43}|EAAA[A-Za-z0-9_\-]{60}",
        keywords=("sq0atp-", "sq0csp-", "eaaa"),
        validator=looks_random,
    ),
    rule(
        "facebook-access-token",
        "Facebook access token",
        token(r"EAA[BCDGIMQZ][A-Za-z0-9]{100,400}", before=r"A-Za-z0-9_\-+/"),
        shape=r"EAA[BCDGIMQZ][A-Za-z0-9]{100,400}",
        keywords=("eaa",),
        severity="high",
        validator=looks_random,
    ),
    prefixed(
        "mapbox-secret-token",
        "Mapbox secret token",
        r"sk\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{20,}",
        keywords=("sk.eyj",),
    ),
    prefixed(
        "flyio-token",
        "Fly.io token",
        r"fo1_[A-Za-z0-9_\-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}",
        keywords=("fo1_", "fm1", "fm2"),
        validator=looks_random,
    ),
    prefixed(
        "planetscale-token",
        "PlanetScale token or password",
        r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.\-]{32,64}",
        keywords=("pscale_",),
    ),
    prefixed("prefect-api-key", "Prefect API key", r"pnu_[A-Za-z0-9]{36}", keywords=("pnu_",)),
    prefixed("readme-api-key", "ReadMe API key", r"rdme_[a-z0-9]{70}", keywords=("rdme_",)),
    prefixed("infracost-api-key", "Infracost API key", r"ico-[A-Za-z0-9]{32}", keywords=("ico-",)),
    prefixed("frameio-token", "Frame.io token", r"fio-u-[A-Za-z0-9_=\-]{64}", keywords=("fio-u-",)),
    prefixed(
        "scalingo-token", "Scalingo API token", r"tk-us-[A-Za-z0-9_\-]{48}", keywords=("tk-us-",)
    ),
    prefixed(
        "maxmind-license-key",
        "MaxMind license key",
        r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk",
        keywords=("_mmk",),
    ),
    prefixed(
        "sourcegraph-token",
        "Sourcegraph access token",
        r"sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}",
        keywords=("sgp_",),
    ),
    prefixed(
        "shippo-api-key",
        "Shippo live API key",
        r"shippo_live_[a-fA-F0-9]{40}",
        keywords=("shippo_",),
    ),
    prefixed(
        "duffel-api-key",
        "Duffel live API key",
        r"duffel_live_[A-Za-z0-9_=\-]{43}",
        keywords=("duffel_",),
    ),
    prefixed("easypost-api-key", "EasyPost API key", r"EZAK[A-Za-z0-9]{54}", keywords=("ezak",)),
    prefixed(
        "cloudflare-origin-ca-key",
        "Cloudflare Origin CA key",
        r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
        keywords=("v1.0-",),
    ),
    prefixed(
        "adobe-client-secret", "Adobe client secret", r"p8e-[A-Za-z0-9]{32}", keywords=("p8e-",)
    ),
    prefixed(
        "openshift-token",
        "OpenShift user token",
        r"sha256~[A-Za-z0-9_\-]{43}",
        keywords=("sha256~",),
        validator=looks_random,
    ),
    prefixed(
        "gitlab-runner-registration-token",
        "GitLab runner registration token",
        r"GR1348941[A-Za-z0-9_\-]{20}",
        keywords=("gr1348941",),
    ),
    prefixed(
        "octopus-deploy-api-key",
        "Octopus Deploy API key",
        r"API-[A-Z0-9]{26}",
        keywords=("api-",),
        validator=_tail_random,
    ),
    prefixed(
        "harness-api-key",
        "Harness API key",
        r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        keywords=("pat.", "sat."),
    ),
    prefixed(
        "google-oauth-client-secret",
        "Google OAuth client secret",
        r"GOCSPX-[A-Za-z0-9_\-]{28}",
        keywords=("gocspx-",),
    ),
    rule(
        "microsoft-teams-webhook-url",
        "Microsoft Teams webhook URL",
        r"https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/"
        rf"(?P<secret>{UUID}@{UUID}/IncomingWebhook/[A-Za-z0-9]{{32}}/{UUID})",
        shape=rf"{UUID}@{UUID}/IncomingWebhook/[A-Za-z0-9]{{32}}/{UUID}",
        keywords=("webhook.office.com",),
        severity="high",
        allowlist="uuid",
    ),
)
