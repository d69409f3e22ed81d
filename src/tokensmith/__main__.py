"""`python -m tokensmith` runs the command-line interface."""

import sys

from tokensmith.cli import main

sys.exit(main())
