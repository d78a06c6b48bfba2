"""`python -m wallrenderer` is the `wall` command (the demo starts its children this way)."""

import sys

from wallrenderer.cli import main

sys.exit(main())
