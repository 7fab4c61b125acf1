"""`python -m bridge run|serve|people ...` (see bridge.cli)."""
import sys

from .cli import main

sys.exit(main())
