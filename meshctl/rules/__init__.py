"""Every code meshctl can report, one module per code.

``input/``   what the loader and the schema engine report (MSH0xx, declarations only)
``values/``  value checks on single documents, run by ``meshctl validate`` (MSH0xx)
"""
