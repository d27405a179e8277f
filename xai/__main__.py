"""``python -m xai …``: the command line (see xai/cli.py)."""
import sys

from .cli import main

sys.exit(main())
