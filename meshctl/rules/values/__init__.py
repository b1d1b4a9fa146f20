"""Value checks: what a schema cannot say, as the API servers' webhooks and CEL rules do.

One module per code. Each declares the kinds it reads and a ``check(doc)`` generator.
Checks must be defensive about shapes: they also run on documents the schema rejected.
"""
