"""Stage 2: check each document against its kind's schema and the value checks.

``catalog``  which kinds and versions exist, where their schemas are (schemas/index.json)
``engine``   compiled schema validators (jsonschema-rs), errors -> findings with positions
``checker``  one document -> schema findings + value-check findings
"""
