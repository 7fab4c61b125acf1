"""The ARTS network (ACM MM 2024), one module per component of the paper's Section 3.

lifter (3.2.1) -> disentangle (3.2.2) -> tik (3.3.1), bsf (3.3.2), mcr (3.3.3), composed in `arts`, with the
per-frame feature sources in `features` and shared transformer parts in `attention`. `config` holds every
hyper-parameter, `inputs` turns MediaPipe output into network inputs (numpy), `losses` is Eq. 11,
`checkpoint` reads and writes weights, `registry` names the shipped checkpoint and `inference` runs it.
Importing this package imports nothing heavy: torch is loaded by the modules themselves.
"""
