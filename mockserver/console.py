"""The console page at /__admin/: the live request journal (with why each request got its answer),
the store by collection, reset, and the latency and fault rules. One static HTML file with a little
JavaScript, served by the mock itself (no build step, no external assets: its Content-Security-Policy
admits nothing from elsewhere); it calls only the control surface's own JSON endpoints.
"""

from __future__ import annotations

import functools
import importlib.resources

from starlette.responses import HTMLResponse

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


@functools.cache
def page() -> str:
    return importlib.resources.files("mockserver").joinpath("static/console.html").read_text(encoding="utf-8")


def response() -> HTMLResponse:
    return HTMLResponse(page(), headers=HEADERS)
