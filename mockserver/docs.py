"""The docs beside each API: Swagger UI at `/__docs/` and the spec as JSON at `/openapi.json`,
served by Connexion (what it does well), to which the request pipeline (pipeline.py) hands those
paths and nothing else. Connexion reads the spec here for the docs alone: the operations it
registers are never called (`not_served`), since no API request reaches it. What fails here is
answered in the API's own error body (errors.install)."""

from __future__ import annotations

import copy
import logging

import connexion
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver

from . import errors

# Connexion warns, for every operation, that the spec names no function of its own to check the
# operation's credentials: the pipeline checks them (auth.py), Connexion serves only the docs.
logging.getLogger("connexion.security").setLevel(logging.ERROR)


async def not_served(*_, **__):
    raise LookupError("the request pipeline serves the API's operations; the docs app only /__docs")


def docs_app(contract):
    app = connexion.AsyncApp(__name__, specification_dir=str(contract.path.parent))
    app.add_api(
        copy.deepcopy(contract.raw),  # already parsed: Connexion need not read the YAML again
        base_path="",
        resolver=Resolver(lambda operation_id: not_served),
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/__docs"),
    )
    errors.install(app, contract)
    return app
