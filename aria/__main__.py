"""Allow ``python -m aria``."""

import sys

from aria.cli import main

sys.exit(main())
