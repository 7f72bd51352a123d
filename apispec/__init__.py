"""The kernel: the specs read once, shared by the mock (mockserver), the harness (contract_tests)
and the breaking-change gate (specdiff). It imports no other package of the project.

    load     where the specs and fixtures are; reading a spec; its operations
    refs     `$ref`s: follow, replace, list
    model    Contract and Operation: one API's contract with lookups
    paths    path templates as regexes, normalised
    schema   OpenAPI schema -> JSON Schema; object properties (allOf); envelopes
    lint     static checks of a spec (`python -m apispec.lint`, `make lint`)
    ext/     one module per `x-` extension, owning its meaning
"""
