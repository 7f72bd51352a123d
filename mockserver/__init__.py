"""Stateful mock servers driven by the specs in specs/."""

import logging
import warnings

# Connexion logs an ERROR for every query parameter the spec does not name; fuzzing sends many.
logging.getLogger("connexion.decorators.parameter").setLevel(logging.CRITICAL)

# Connexion imports Starlette's test client at start-up, which warns that httpx is deprecated there;
# the mock never uses it, and `make run` should not greet a user with the warning.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
