"""Allow ``python -m aria.cli``."""

import sys

from aria.cli import main

sys.exit(main())
