"""Stage 1: find the input files and read every YAML/JSON document with its positions.

``discover``  paths, directories and stdin -> InputFile
``reader``    InputFile -> SourceDoc (PyYAML's C parser, node marks kept) + loader findings
``document``  SourceDoc: one resource, its data, and field path -> Location
"""
