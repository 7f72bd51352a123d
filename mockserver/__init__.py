"""Stateful mock servers driven by the specs in specs/."""

import logging

# Connexion logs an ERROR for every query parameter the spec does not name; fuzzing sends many.
logging.getLogger("connexion.decorators.parameter").setLevel(logging.CRITICAL)
