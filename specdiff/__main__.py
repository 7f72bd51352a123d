"""`python -m specdiff OLD NEW [--format ...]`: the same command as `specdiff` and `contract-test diff`."""

from .cli import main

raise SystemExit(main())
