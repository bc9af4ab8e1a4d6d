"""Vector generators: each module here exposes `generate() -> dict[str, dict]`.

`aip-conformance vectors generate` imports every module of this package, so adding a file is
all it takes to add vectors. Generators build tokens from primitives only, never from `aip`.
"""
