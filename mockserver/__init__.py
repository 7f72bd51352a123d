"""Stateful mock servers driven by the specs in specs/."""

import warnings

# Connexion (the docs, docs.py) imports Starlette's test client at start-up, which warns that httpx is deprecated there;
# the mock never uses it, and `make run` should not greet a user with the warning.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
