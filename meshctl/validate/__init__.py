"""Stage 2: check each document against its kind's schema and the value checks.

``catalog``  which kinds and versions exist, where their schemas are (schemas/index.json)
``engine``   compiled schema validators (jsonschema-rs), errors -> findings with positions
``checker``  one document -> schema findings + value-check findings
``parallel`` ``--jobs``: the same in worker processes, for inputs of MIN_PARALLEL_BYTES and more
"""

MIN_PARALLEL_BYTES = 2 * 1024 * 1024  # below this, forking costs more than it saves
