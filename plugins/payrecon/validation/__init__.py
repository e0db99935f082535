"""Great Expectations suites (GX 1.x, called directly): settlement lines and orders.

Import is cheap: GX itself is only imported when a suite is built (`gx_runtime.gx()`).
"""
