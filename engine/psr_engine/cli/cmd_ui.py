"""psr-engine ui [PATH ...]: the dashboard over the run histories found under PATHs.

Exit codes: 0 stopped with Ctrl-C, 2 cannot start as asked (no token for a public address,
no history found, the `ui` extra missing).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help="state folders, runs.db files, or folders to search for .psr/runs.db "
        "(default: the current folder)",
    )
    add("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    add("--port", type=int, default=8765, help="port (default: 8765; 0: any free port)")
    add(
        "--token-file",
        metavar="FILE",
        help="the access token (else $PSR_UI_TOKEN); required for an address other than loopback",
    )
    add(
        "--allow-actions",
        action="store_true",
        help="let the pages and the API cancel, resume and rerun runs",
    )
    add("--open", dest="open_browser", action="store_true", help="open the page in a browser")
    add(
        "--trace-url",
        metavar="TEMPLATE",
        help="link each traced run to its trace: a URL with {traceId} (and maybe {runId}, "
        "{workflow}), e.g. http://jaeger:16686/trace/{traceId} (else $PSR_UI_TRACE_URL)",
    )


def run(args: argparse.Namespace) -> int:
    from psr_engine.ui.server import Options, serve

    return serve(
        Options(
            paths=tuple(args.paths),
            host=args.host,
            port=args.port,
            token_file=args.token_file,
            allow_actions=args.allow_actions,
            open_browser=args.open_browser,
            trace_url=args.trace_url,
        )
    )
