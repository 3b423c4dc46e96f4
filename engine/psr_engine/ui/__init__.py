"""The dashboard: `psr-engine ui` serves the run histories found under some folders as web
pages and a REST API (Starlette on uvicorn, the `ui` extra).

A later stage of the data path: it reads what the engine recorded (`store/`, read-only) and
never imports the manifest or the planner (see [tool.importlinter]). The only writes it causes
are the engine's own: a cancel is a SIGINT to the engine, a resume or rerun is a detached
`psr-engine apply`.

    catalog.py   the state folders served; read-only connections; run lookups
    views.py     what a page or the API shows of a run: documents, DAG layout, critical path
    logs.py      log bytes by range or tail, from paths the history holds
    live.py      Server-Sent Events from changes in runs.db
    actions.py   cancel, resume, rerun (off unless --allow-actions)
    security.py  token, login cookie, CSRF, security headers
    openapi.py   the OpenAPI 3.1 document of the API (and its Markdown, for the docs)
    charts.py    the workflow page's bars and task statistics
    api.py, pages.py (JSON and HTML routes), state.py (what handlers share), app.py (the
    Starlette app), server.py (`psr-engine ui`: checks, uvicorn)
"""
