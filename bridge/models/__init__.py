"""The ARTS network (ACM MM 2024), one module per component of the paper's Section 3.

lifter (3.2.1) -> disentangle (3.2.2) -> tik (3.3.1), bsf (3.3.2), mcr (3.3.3), composed in `arts`;
`config` holds every hyper-parameter, `losses` Eq. 11, `checkpoint` and `inference` the shipped model.
Importing this package imports nothing heavy: torch is loaded by the modules themselves.
"""
