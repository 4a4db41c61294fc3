"""The demo population for `maatwerk demo` and the benchmarks: beside the product, not in it.

It imports `matching`; nothing in `matching` imports it.
"""
